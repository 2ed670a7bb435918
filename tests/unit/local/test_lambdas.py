"""Local mode's Lambda dispatch: the EMF metric documents handlers print are summed as CloudWatch would."""

import json

from copytrader.local.lambdas import emf_metrics


def test_emf_documents_are_summed_per_metric():
    line = json.dumps(
        {
            "_aws": {
                "Timestamp": 1,
                "CloudWatchMetrics": [
                    {
                        "Namespace": "CopyTrader",
                        "Dimensions": [["service"]],
                        "Metrics": [{"Name": "score_skip"}, {"Name": "x"}],
                    }
                ],
            },
            "service": "copytrader",
            "score_skip": [1.0, 1.0, 1.0],
            "x": 2.0,
        }
    )
    assert emf_metrics(line) == {"score_skip": 3.0, "x": 2.0}
    assert emf_metrics('{"level": "INFO", "message": "scored"}') == {}
    assert emf_metrics("not json") == {}
