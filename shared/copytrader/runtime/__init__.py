"""What running on AWS needs, shared by every entry point: the environment's names (`env`), the Logger and
Metrics of handlers and their step runners (`observability`), operator alerts through SNS (`alerts`), exit signals
onto the copy queue (`exit_queue`), the one retry and reconnect backoff (`backoff`), and the liveness file a
container health check reads (`heartbeat`). The wiring of adapters is `copytrader.workflows.wiring`."""
