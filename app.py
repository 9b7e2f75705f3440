#!/usr/bin/env python3
"""Ragline's CDK app: one stack per environment in cdk.json (`-c env=NAME` for one).

    python app.py                      # synthesize dev, staging and prod into cdk.out, offline
    cdk diff -c env=dev                # the CLI runs this file with cdk.json's context
    cdk deploy -c env=dev

The cdk-nag AwsSolutions checks run as a validation plugin: any unacknowledged finding fails
the synth (cdk/security.py).
"""

import os

os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")

from ragline_cdk.app_builder import build_app  # noqa: E402


def main() -> None:
    app, _ = build_app()
    app.synth()


if __name__ == "__main__":
    main()
