"""The social workers' web page (FastAPI, server-rendered Jinja2 pages).

Nothing is imported here on purpose: outreach.config imports :mod:`outreach.web.config`, and
that must not load FastAPI. The app is :func:`outreach.web.app.create_app`.
"""
