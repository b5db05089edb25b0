"""`python_synthetics_canary`: a CloudWatch Synthetics Python canary zip, in `./pants package`.

The zip is built by Pants's FaaS rule (`BuildPythonFaaSRequest`, what `python_awslambda`
uses): the handler's module, its first-party and third-party dependencies from the lockfile,
and a fixed entry module (`ENTRY_MODULE`, re-exporting the handler as ``handler``) in a flat
zip; then `canary_zip.canary_zip` moves everything under ``python/``, the layout Synthetics
requires, and leaves out the native extensions the target names as optional. The canary's
handler in Synthetics is then ``<ENTRY_MODULE>.handler``.

The resolve is the repository's (its lockfile is valid for CPython 3.13 only); the canary
runtime's Python is another, which is why the zip may carry pure Python only (see
canary_zip.py). The canary's tests run it on the runtime's Python.

    python_synthetics_canary(
        name="websocket_canary",
        handler="websocket_canary.handler:handler",
        optional_native_modules=["websockets.speedups"],
    )
"""

from __future__ import annotations

from dataclasses import dataclass

from pants.backend.python.target_types import PythonResolveField
from pants.backend.python.util_rules.faas import (
    BuildPythonFaaSRequest,
    PythonFaaSCompletePlatforms,
    PythonFaaSDependencies,
    PythonFaaSHandlerField,
    PythonFaaSRuntimeField,
)
from pants.backend.python.util_rules.faas import rules as faas_rules
from pants.core.goals.package import (
    BuiltPackage,
    BuiltPackageArtifact,
    OutputPathField,
    PackageFieldSet,
)
from pants.core.util_rules.environments import EnvironmentField
from pants.engine.fs import CreateDigest, Digest, DigestContents, FileContent
from pants.engine.rules import Get, collect_rules, rule
from pants.engine.target import COMMON_TARGET_FIELDS, StringSequenceField, Target
from pants.engine.unions import UnionRule
from pants.util.logging import LogLevel

from synthetics_canary.canary_zip import ENTRY_MODULE, canary_zip


class SyntheticsCanaryHandlerField(PythonFaaSHandlerField):
    help = (
        "The canary's handler, `module:function` (e.g. `websocket_canary.handler:handler`); "
        f"re-exported as `{ENTRY_MODULE}.handler`, the canary's handler in Synthetics."
    )


class OptionalNativeModulesField(StringSequenceField):
    alias = "optional_native_modules"
    default = ()
    help = (
        "Native extension modules (e.g. `websockets.speedups`) left out of the zip because "
        "their package falls back to pure Python; any other native extension fails the build."
    )


# The repository's interpreter (pants.toml: CPython==3.13.*) on Linux x86_64: the platform
# the lockfile's wheels are for.
REPOSITORY_PYTHON = (3, 13)


class _ResolveForTheRepositoryPython(PythonFaaSRuntimeField):
    """The resolve and the zip are for the repository's Python (the lockfile is valid for it
    only), not the canary runtime's: the zip keeps pure Python only. Without a platform,
    Pex would lay the zip out for whatever interpreter runs it (Pants's own)."""

    alias = "_synthetics_resolve_runtime"
    help = "internal"

    def to_interpreter_version(self) -> tuple[int, int]:
        return REPOSITORY_PYTHON


class PythonSyntheticsCanary(Target):
    alias = "python_synthetics_canary"
    core_fields = (
        *COMMON_TARGET_FIELDS,
        OutputPathField,
        PythonFaaSDependencies,
        SyntheticsCanaryHandlerField,
        OptionalNativeModulesField,
        PythonResolveField,
        EnvironmentField,
    )
    help = "A CloudWatch Synthetics Python canary: its zip, with the script under python/."


@dataclass(frozen=True)
class SyntheticsCanaryFieldSet(PackageFieldSet):
    required_fields = (SyntheticsCanaryHandlerField,)

    handler: SyntheticsCanaryHandlerField
    optional_native_modules: OptionalNativeModulesField
    output_path: OutputPathField
    environment: EnvironmentField


@rule(desc="Create a CloudWatch Synthetics Python canary zip", level=LogLevel.DEBUG)
async def package_synthetics_canary(field_set: SyntheticsCanaryFieldSet) -> BuiltPackage:
    address = field_set.address
    flat = await Get(
        BuiltPackage,
        BuildPythonFaaSRequest(
            address=address,
            target_name=PythonSyntheticsCanary.alias,
            complete_platforms=PythonFaaSCompletePlatforms(None, address),
            runtime=_ResolveForTheRepositoryPython(None, address),
            handler=field_set.handler,
            output_path=field_set.output_path,
            include_requirements=True,
            reexported_handler_module=ENTRY_MODULE,
        ),
    )
    (artifact,) = flat.artifacts
    if artifact.relpath is None:
        raise ValueError(f"{address}: the FaaS rule built no file")
    contents = await Get(DigestContents, Digest, flat.digest)
    (built,) = (c for c in contents if c.path == artifact.relpath)
    try:
        data, dropped = canary_zip(
            built.content, ENTRY_MODULE, field_set.optional_native_modules.value or ()
        )
    except ValueError as exc:
        raise ValueError(f"{address}: {exc}") from None
    digest = await Get(Digest, CreateDigest([FileContent(artifact.relpath, data)]))
    log = [f"    Handler: {ENTRY_MODULE}.handler (python/{ENTRY_MODULE}.py)"]
    log.extend(f"    Left out: {name}" for name in dropped)
    return BuiltPackage(
        digest=digest, artifacts=(BuiltPackageArtifact(artifact.relpath, tuple(log)),)
    )


def rules():
    return (
        *collect_rules(),
        UnionRule(PackageFieldSet, SyntheticsCanaryFieldSet),
        *faas_rules(),
    )


def target_types():
    return [PythonSyntheticsCanary]
