"""What running on AWS needs, shared by every entry point: the environment's names (`env`), the Logger and
Metrics of handlers and their step runners (`observability`), operator alerts through SNS (`alerts`), and the one
retry and reconnect backoff (`backoff`). The wiring of adapters is `copytrader.workflows.wiring`."""
