"""The handler kit: one way to write a Lambda function per event source, on Powertools.

Every function in ``functions/`` is a few lines that pick one entry point from here:

| event source | module | what it gives a function |
|---|---|---|
| API Gateway REST (proxy) | ``kit.http`` | routes declaring models and every status they answer; request validation; the one error mapping; the OpenAPI document generated from the routes |
| SQS (FIFO) | ``kit.sqs`` | pydantic message bodies, partial batch failures, idempotency on the declared table |
| Step Functions task | ``kit.tasks`` | pydantic input and output models per step; typed errors as ``errorType`` for Retry/Catch |
| EventBridge schedule | ``kit.schedule`` | the scheduled time and a run summary |
| API Gateway WebSocket | ``kit.websocket`` | ``$connect``/``$disconnect``/actions by route key; pushes through the Management API |

Each entry point wraps the function in Logger (with a correlation id), Tracer and Metrics
(``kit.observability``) and validates the function's environment model before any work.
"""
