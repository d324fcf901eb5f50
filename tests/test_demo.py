"""The demo driver: stages run in order, missing capabilities are reported (never faked), a failed stage
fails the demo, and the report is written atomically."""

from __future__ import annotations

from lpn_tf import demo


def test_stage_logic(tmp_path, monkeypatch) -> None:
    ran: list[str] = []

    def ok(name: str):
        def run(ctx: demo.Context) -> str:
            ran.append(name)
            return f"{name} done"
        return run

    stages = [
        demo.Stage("independent", 2, ok("independent"), pipeline=False),
        demo.Stage("first", 3, ok("first")),
        demo.Stage("not built", 4, ok("not built"), ("lpn_tf.no_such_module",)),
        demo.Stage("after the gap", 5, ok("after the gap")),
    ]
    monkeypatch.setattr(demo, "STAGES", stages)
    assert demo.main(tmp_path) == 0
    assert ran == ["independent", "first"]
    report = (tmp_path / "report.md").read_text()
    assert "not built yet" in report and "lpn_tf.no_such_module" in report
    assert "skipped: needs 'not built'" in report
    assert not (tmp_path / "report.md.tmp").exists()


def test_failed_stage_fails_the_demo(tmp_path, monkeypatch) -> None:
    def boom(ctx: demo.Context) -> str:
        raise RuntimeError("broken on purpose")

    monkeypatch.setattr(demo, "STAGES", [demo.Stage("boom", 2, boom), demo.Stage("later", 3, lambda c: "x")])
    assert demo.main(tmp_path) == 1
    report = (tmp_path / "report.md").read_text()
    assert "FAILED" in report and "broken on purpose" in report and "skipped after a failure" in report
