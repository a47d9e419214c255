"""gunicorn settings for consent-server in production, behind deploy/nginx.conf.

    gunicorn -c deploy/gunicorn.conf.py 'consent_server:create_app()'

Threaded workers (gthread): a connection that is open but silent waits in the
worker's poller and holds no thread, and a long answer (an export) runs in
its thread while the worker keeps telling the arbiter it is alive, so the
timeout below never cuts a request that is still working. Sync workers do
neither: each idle socket blocks a whole worker until the timeout kills it,
and a slow reader gets its export cut at the timeout.
"""

# Loopback only: nginx is what clients reach.
bind = "127.0.0.1:8000"
worker_class = "gthread"
# Processes for the CPU, threads for requests waiting on the database; 4 x 8
# answers 32 requests at once. More processes on more cores.
workers = 4
threads = 8
# A worker whose main loop is stuck this long is restarted; with gthread this
# does not limit how long one request may take.
timeout = 30
graceful_timeout = 30
# Longer than nginx's upstream keepalive_timeout (4 s), so nginx always closes
# an idle kept-alive connection first and never sends a request into one
# gunicorn is closing.
keepalive = 5
