"""The local runtime and the stack agree: both render the very same ragline.wiring objects
(event patterns, handler names, state machine files), and the template says what they say."""

from __future__ import annotations

import pytest

from ragline import wiring


def test_local_runtime_and_cdk_app_use_the_same_wiring_objects(stack):
    import ragline_cdk.functions
    import ragline_cdk.ingestion
    import ragline_local.runtime as local_runtime

    # The local runtime imports these names from ragline.wiring: the same objects, not copies.
    assert local_runtime.FUNCTIONS is wiring.FUNCTIONS
    assert local_runtime.STATE_MACHINES is wiring.STATE_MACHINES
    assert local_runtime.substitutions is wiring.substitutions
    assert ragline_cdk.ingestion.wiring is wiring and ragline_cdk.functions.wiring is wiring
    # The stack's constructs were built from those very spec objects.
    for name, spec in wiring.STATE_MACHINES.items():
        assert stack.ingestion.state_machines[name].spec is spec
    for name, spec in wiring.FUNCTIONS.items():
        assert stack.functions[name].spec is spec
    assert stack.migrations.function.spec is wiring.MIGRATE_CATALOG


@pytest.mark.parametrize("name", sorted(wiring.STATE_MACHINES))
def test_rule_pattern_is_the_spec_pattern_for_the_documents_bucket(template, stack, name):
    spec = wiring.STATE_MACHINES[name]
    machine = stack.ingestion.state_machines[name]
    rule = template.props(template.logical_id(machine.rule))
    bucket = {"Ref": template.logical_id(stack.storage.documents_bucket)}
    # The same function the local runtime calls with its bucket name, here with the bucket's Ref.
    assert rule["EventPattern"] == spec.event_pattern(bucket)
    (target,) = rule["Targets"]
    assert target["Arn"] == {"Ref": template.logical_id(machine.state_machine)}


@pytest.mark.parametrize("name", sorted(wiring.FUNCTIONS))
def test_function_handler_is_the_spec_handler(template, stack, name):
    spec = wiring.FUNCTIONS[name]
    props = template.props(template.logical_id(stack.functions[name].function))
    assert props["Handler"] == spec.handler
    assert (props["MemorySize"], props["Timeout"]) == (spec.memory_mb, spec.timeout_s)
    assert props["Description"] == spec.description


@pytest.mark.parametrize("name", sorted(wiring.STATE_MACHINES))
def test_state_machine_definition_is_the_file_modulo_substitutions(template, stack, name):
    spec = wiring.STATE_MACHINES[name]
    props = template.props(template.logical_id(stack.ingestion.state_machines[name].state_machine))
    assert props["DefinitionString"] == spec.definition_file.read_text()
    # Rendering it the local runtime's way with the stack's values yields no ${...} left.
    subs = {variable: f"<{variable}>" for variable in props["DefinitionSubstitutions"]}
    assert "${" not in wiring.render_definition(spec, subs)


def test_every_function_in_wiring_is_deployed_once(template):
    handlers = [r["Properties"]["Handler"] for r in template.of_type("AWS::Lambda::Function").values()
                if r["Properties"].get("Handler", "").startswith("handlers.")]
    expected = [s.handler for s in (*wiring.FUNCTIONS.values(), *wiring.DEPLOY_FUNCTIONS.values())]
    assert sorted(handlers) == sorted(expected)
