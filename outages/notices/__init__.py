"""What customers are told: planning, queueing, delivery, status callbacks and SMS keywords."""
