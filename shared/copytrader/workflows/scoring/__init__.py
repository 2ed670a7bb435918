"""The daily whale scoring: discover -> Distributed Map of evidence -> select (`definition.asl.json`, `steps`), the
run's plan and records (`plan`), where its documents live (`run_store`) and the readers its children use
(`readers`)."""
