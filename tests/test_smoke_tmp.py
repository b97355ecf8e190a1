from engine import CopyRequest, Feedback, Verdict

async def test_copy_and_approve(engine, console_origin):
    result = await engine.copy(console_origin, CopyRequest(product="bamboo toothbrush", n=3))
    assert len(result.variants) == 3
    out = await engine.record_feedback(Feedback(console_origin, Verdict.APPROVE, variant_id=result.variants[0].id))
    assert out.status == "approved"
