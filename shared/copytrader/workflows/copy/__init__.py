"""The copy pipeline: score -> size -> risk_check -> execute for each whale fill (`definition.asl.json`, `steps`),
where each stop ends (`branches`), its metrics and copy gap (`telemetry`), and settling resolved markets
(`settlement`)."""
