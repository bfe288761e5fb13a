"""The customer registry: import, contacts, opt-outs, and matching customers to areas."""
