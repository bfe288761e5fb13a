"""One router per area; outages/api/app.py lists them."""
