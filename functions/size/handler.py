"""Lambda entry point: size step of the copy pipeline (being written)."""


def lambda_handler(event, context):  # placeholder until the handler lands in this session
    return event
