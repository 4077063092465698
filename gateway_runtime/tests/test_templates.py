"""The substitution template engine that stands in for VTL."""

from __future__ import annotations

from gateway_runtime.templates import TemplateScope, compile_template


def _scope() -> TemplateScope:
    return TemplateScope(
        body=lambda: '{"a": 1}',
        context=lambda: {"requestId": "r-1", "error": {"messageString": '"Oops"'}},
        stage_variables={"env": "test"},
    )


def test_it_substitutes_known_references_in_both_forms() -> None:
    template = compile_template('{"body": $input.body, "id": "${context.requestId}", "env": "$stageVariables.env"}')

    assert template.render(_scope()) == '{"body": {"a": 1}, "id": "r-1", "env": "test"}'


def test_it_leaves_unknown_references_and_directives_as_written() -> None:
    template = compile_template("#set($x = 1)$input.json('$') $context.nothing $util.escapeJavaScript($y)")

    assert template.render(_scope()) == "#set($x = 1)$input.json('$') $context.nothing $util.escapeJavaScript($y)"


def test_it_renders_a_template_without_references_as_a_constant() -> None:
    template = compile_template('{"statusCode": 200}')

    assert template.static == '{"statusCode": 200}'
    assert template.render(_scope()) == '{"statusCode": 200}'
