"""Thin handlers: parse the request or event, call citybrain, shape the response."""
