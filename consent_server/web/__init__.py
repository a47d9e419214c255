"""The web floor: HTTP in and out, no business rules; each module one blueprint."""
