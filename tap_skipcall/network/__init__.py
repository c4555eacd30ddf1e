"""HTTP for every stream: one session, one request budget, requests started ahead."""
