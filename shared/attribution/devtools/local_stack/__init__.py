"""The local stack: the functions, Pub/Sub push and a bucket on emulators, on one machine.

``attribution serve`` (``make serve``) runs it; see ``stack.LocalStack``. Modules:
``emulators`` (the emulator processes), ``topology`` (topics, push subscriptions, buckets),
``dispatcher`` (every function's functions-framework app in one WSGI app), ``watcher`` (the
Eventarc stand-in for object-finalized events).
"""
