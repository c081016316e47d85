from tests.helpers import settle, sync


@sync
async def test_scratch(principal_app) -> None:
    app = principal_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        t = app.screen.table
        print([(s.text) for s in list(t.render_line(2))[:6]])
        row = t.row_at(1)
        c = t.columns[0].cell(row).copy()
        c.truncate(14, overflow="ellipsis", pad=True)
        print(repr(c), c.spans, list(c.render(app.console)))
