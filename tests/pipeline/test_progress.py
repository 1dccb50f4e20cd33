"""Progress lines: k of n, never per training step, and always ending at n/n."""

from layerwise.pipeline.progress import Progress


def lines(capsys) -> list[str]:
    return [line for line in capsys.readouterr().out.splitlines() if line.strip()]


def test_the_last_line_is_n_of_n(capsys):
    bar = Progress("rounds", 4, every=3600)  # throttled: only the last line prints
    for _ in range(4):
        bar.advance()
    out = lines(capsys)
    assert len(out) == 1 and out[0].startswith("  rounds: 4/4  "), out
    assert "elapsed" in out[0] and "left" in out[0]


def test_a_fit_hook_counts_finished_epochs(capsys):
    """ReplicaMLP.fit calls the hook with the 0-based epoch: 100 epochs end at 100/100."""
    bar = Progress("epochs", 100, every=3600)
    for epoch in range(100):
        bar.on_epoch(epoch)
    assert lines(capsys)[-1].startswith("  epochs: 100/100")


def test_several_pieces_at_once_and_lines_at_most_every_few_seconds(capsys):
    bar = Progress("arms", 6, every=0)
    bar.advance(2)
    bar.advance(4)
    assert [line.split()[1] for line in lines(capsys)] == ["2/6", "6/6"]


def test_hidden_progress_prints_nothing_and_gives_a_fit_no_hook(capsys):
    bar = Progress("epochs", 3, show=False)
    bar.advance(3)
    assert bar.on_epoch is None
    assert lines(capsys) == []
