"""`python_awslambda` whose zip carries compiled bytecode: Pants's AWS Lambda backend plus one step.

Pants 2.17 builds the zip layout with `pex3 venv create --layout flat-zipped`, which writes
sources only, and offers no option to compile them. /var/task is read-only on Lambda, so
every cold start of such a zip compiles every module it imports, every time (measured by
shared-metrics/benchmarks: about half of a handler's import time). This backend registers the
same `python_awslambda` target type, builds the zip with the same rule
(`BuildPythonFaaSRequest`), then adds a `.pyc` for every `.py` in it, compiled by an
interpreter of the function's runtime version (`runtime="python3.13"` -> CPython 3.13.*; a
.pyc is only valid for the version that wrote it). See compile_zip.py for the format.

It replaces `pants.backend.awslambda.python` in pants.toml's backend_packages (both would
register the `python_awslambda` alias). Only the zip layout (`[lambdex] layout = "zip"`) is
supported: the Lambdex layout is deprecated and needs a download that fails here.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from pants.backend.awslambda.python.target_types import (
    PythonAWSLambda,
    PythonAwsLambdaHandlerField,
    PythonAwsLambdaIncludeRequirements,
    PythonAwsLambdaRuntime,
)
from pants.backend.awslambda.python.target_types import rules as target_types_rules
from pants.backend.python.subsystems import lambdex
from pants.backend.python.subsystems.lambdex import Lambdex, LambdexLayout
from pants.backend.python.util_rules.faas import BuildPythonFaaSRequest, PythonFaaSCompletePlatforms
from pants.backend.python.util_rules.faas import rules as faas_rules
from pants.backend.python.util_rules.interpreter_constraints import InterpreterConstraints
from pants.backend.python.util_rules.pex_environment import PythonExecutable
from pants.core.goals.package import BuiltPackage, OutputPathField, PackageFieldSet
from pants.core.util_rules.environments import EnvironmentField
from pants.engine.fs import CreateDigest, Digest, FileContent, MergeDigests
from pants.engine.process import Process, ProcessResult
from pants.engine.rules import Get, collect_rules, rule
from pants.engine.unions import UnionRule
from pants.util.logging import LogLevel

_COMPILER = "compile_zip.py"


@dataclass(frozen=True)
class CompiledPythonAwsLambdaFieldSet(PackageFieldSet):
    required_fields = (PythonAwsLambdaHandlerField,)

    handler: PythonAwsLambdaHandlerField
    include_requirements: PythonAwsLambdaIncludeRequirements
    runtime: PythonAwsLambdaRuntime
    complete_platforms: PythonFaaSCompletePlatforms
    output_path: OutputPathField
    environment: EnvironmentField


@rule(desc="Create Python AWS Lambda with compiled bytecode", level=LogLevel.DEBUG)
async def package_compiled_python_awslambda(
    field_set: CompiledPythonAwsLambdaFieldSet, lambdex_subsystem: Lambdex
) -> BuiltPackage:
    if lambdex_subsystem.layout is not LambdexLayout.ZIP:
        raise ValueError(
            f"{field_set.address}: the lambda_bytecode backend builds the zip layout only; set "
            '[lambdex] layout = "zip" in pants.toml'
        )
    version = field_set.runtime.to_interpreter_version()
    if version is None:
        raise ValueError(
            f"{field_set.address}: set `runtime` (pythonX.Y): the bytecode is compiled for it"
        )
    built = await Get(
        BuiltPackage,
        BuildPythonFaaSRequest(
            address=field_set.address,
            target_name=PythonAWSLambda.alias,
            complete_platforms=field_set.complete_platforms,
            runtime=field_set.runtime,
            handler=field_set.handler,
            output_path=field_set.output_path,
            include_requirements=field_set.include_requirements.value,
            reexported_handler_module=PythonAwsLambdaHandlerField.reexported_handler_module,
        ),
    )
    (artifact,) = built.artifacts
    if artifact.relpath is None:
        raise ValueError(f"{field_set.address}: the FaaS rule built no file")
    major, minor = version
    python = await Get(PythonExecutable, InterpreterConstraints([f"CPython=={major}.{minor}.*"]))
    compiler = await Get(
        Digest,
        CreateDigest([FileContent(_COMPILER, (Path(__file__).parent / _COMPILER).read_bytes())]),
    )
    compiled = await Get(
        ProcessResult,
        Process(
            argv=(python.path, "-I", _COMPILER, artifact.relpath, f"{major}.{minor}"),
            input_digest=await Get(Digest, MergeDigests([built.digest, compiler])),
            output_files=(artifact.relpath,),
            append_only_caches=python.append_only_caches,
            immutable_input_digests=python.immutable_input_digests,
            description=f"Compile the bytecode of {artifact.relpath} for Python {major}.{minor}",
            level=LogLevel.DEBUG,
        ),
    )
    return BuiltPackage(digest=compiled.output_digest, artifacts=built.artifacts)


def rules():
    return (
        *collect_rules(),
        UnionRule(PackageFieldSet, CompiledPythonAwsLambdaFieldSet),
        *target_types_rules(),
        *faas_rules(),
        *lambdex.rules(),
    )


def target_types():
    return [PythonAWSLambda]
