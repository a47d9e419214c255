"""The rules of consent, in plain Python: no Flask, no request, no SQL.

Everything here can be tested without a server. The storage floor
(:mod:`consent_server.store`) and the web floor (:mod:`consent_server.web`)
import from here, never the other way round.
"""
