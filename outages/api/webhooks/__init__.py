"""Provider webhooks: Twilio delivery reports and inbound SMS."""
