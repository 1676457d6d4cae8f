"""The analyst console: server-rendered pages (Jinja2, no third-party front-end code) over the serve API."""
