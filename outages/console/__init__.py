"""The dispatcher console: server-rendered pages under /console, signed in with a password,
acting through the same domain functions as the HTTP API."""
