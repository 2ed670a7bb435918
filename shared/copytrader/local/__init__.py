"""The embedded runtime: moto server on loopback, the same tables, queue, bus and state machine as the
CDK app, the real handlers behind the state machine's Lambda tasks, and a local EventBridge Pipe."""
