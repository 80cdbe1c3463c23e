"""gunicorn's settings for SegSaaS (gunicorn reads ./gunicorn.conf.py when started from the project root, as the
README's commands are; flags on the command line still win).

limit_request_line: gunicorn refuses a longer request line itself, with an HTML page (414). At 8,190 bytes (its
maximum) every request line up to about twice the API's own URL limit (`API_MAX_URL_LENGTH`, 4,096 characters) reaches
Django, which refuses URLs over that limit with a 414 in the API's one JSON error format; the OpenAPI schema bounds
every parameter, so no URL it allows comes near either limit.
"""

limit_request_line = 8190
