"""Slider apps on the website respond without a kernel: they play frames drawn at build time.

Each app on a chapter page is a player (``coursekit.widgets.frames``, ``frame-player.js``):
plain labelled controls, one figure, and the grid as JSON. Moving an enabled control shows the
figure of that grid point and the readouts stored with it, the URL hash then holds the state,
and opening that link shows the same state; over http and from ``file://``, with no request
leaving the site. Controls that do not vary on the website are disabled, with the note saying
how to get the app live.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import unquote

import pytest
from playwright.sync_api import Page

import builtsite
from browser_setup import CHROMIUM_ARGS  # noqa: F401
from site_browser import VIEWPORT, Recorder, wait_until_rendered

from coursekit.widgets.app import LIVE_APP_NOTE

_PLAYER_STATE = """(id) => {
    const root = document.getElementById('ck-' + id);
    const image = root.querySelector('img.ck-frame');
    return {
        src: image.getAttribute('src'),
        loaded: image.complete && image.naturalWidth > 0,
        width: image.getBoundingClientRect().width,
        alt: image.alt,
        readouts: [...root.querySelectorAll('[data-axis]')].map((control) =>
            control.tagName === 'SELECT'
                ? control.options[control.selectedIndex].text
                : root.querySelector(`output[for="${control.id}"]`).textContent),
        enabled: root.querySelectorAll('[data-axis]:not(:disabled)').length,
        disabled: root.querySelectorAll('input:disabled, select:disabled').length,
        unlabelled: [...root.querySelectorAll('input, select')]
            .filter((c) => !c.labels || !c.labels.length || !c.labels[0].textContent.trim())
            .map((c) => c.id),
        note: (root.querySelector('.course-live-note') || {}).textContent || null,
    };
}"""


def frame_number(player: dict, indices: list[int]) -> int:
    number = 0
    for axis, index in zip(player["axes"], indices):
        number = number * len(axis["keys"]) + index
    return number


def frame_file(site: Path, page: str, src: str) -> Path:
    return (site / page).parent / src


def wait_for_frame(page: Page, player_id: str, frame: int) -> None:
    page.wait_for_function(
        """([id, frame]) => { const img = document.querySelector('#ck-' + id + ' img.ck-frame');
            return img.getAttribute('src').endsWith('/' + frame + '.webp')
                && img.complete && img.naturalWidth > 0; }""",
        arg=[player_id, frame],
        timeout=10_000,
    )


def move(page: Page, player: dict, axis_index: int, value_index: int) -> None:
    """Move one control as a reader would (a drag or key press on a range sets its value)."""
    axis = player["axes"][axis_index]
    selector = f"#ck-{player['id']}-{axis['name']}"
    if axis["kind"] == "select":
        page.select_option(selector, str(value_index))
    elif axis["kind"] == "checkbox":
        page.locator(selector).set_checked(bool(value_index))
    else:
        page.locator(selector).fill(str(value_index))


def test_pages_with_slider_apps_play_them_from_frames_without_the_widget_manager(
    site: Path, widget_page: str
) -> None:
    info = builtsite.page_info(site, widget_page)
    assert info.players, (
        f"{widget_page}: the notebook uses coursekit.widgets but the page has no frame player"
    )
    assert not info.views, f"{widget_page}: a slider app is still an ipywidgets view"
    html = (site / widget_page).read_text(encoding="utf-8")
    for script in ("embed-amd.js", "require.js"):
        assert script not in html, f"{widget_page} still loads {script}"
    for player in info.players:
        assert player["frames"] == len(player["readouts"])
        folder = (site / widget_page).parent / html.split(
            f'data-player="{player["id"]}" data-frames="'
        )[1].split('"')[0]
        missing = [
            n for n in range(player["frames"]) if not (folder / f"{n}.{player['ext']}").is_file()
        ]
        assert not missing, (
            f"{widget_page}, app {player['id']}: frames {missing[:5]}... are not in the site"
        )


def test_every_player_shows_labelled_controls_and_its_initial_figure(
    open_page, site: Path, widget_page: str
) -> None:
    opened = open_page(widget_page)
    for player in builtsite.page_info(site, widget_page).players:
        where = f"{widget_page}, app {player['id']}"
        state = opened.page.evaluate(_PLAYER_STATE, player["id"])
        default = frame_number(player, [axis["default"] for axis in player["axes"]])
        assert state["loaded"] and state["width"] > 100, f"{where}: the figure is not shown"
        assert state["src"].endswith(f"/{default}.webp"), (
            f"{where}: the page opens on {state['src']}"
        )
        assert state["readouts"] == player["readouts"][default], (
            f"{where}: readouts disagree with the figure"
        )
        assert state["enabled"] == len(player["axes"]), (
            f"{where}: a control the grid varies is not enabled"
        )
        assert not state["unlabelled"], f"{where}: controls without a label: {state['unlabelled']}"
        if state["disabled"]:
            assert state["note"] == LIVE_APP_NOTE, (
                f"{where}: disabled controls but no note on how to get them live"
            )
    assert not opened.recorder.foreign_requests(), f"{widget_page}: requests left the site"


@pytest.mark.slow
def test_moving_each_slider_shows_that_grid_point_and_the_link_keeps_it(
    browser, base_url: str, site: Path, widget_page: str
) -> None:
    players = builtsite.page_info(site, widget_page).players
    context = browser.new_context(viewport=VIEWPORT)
    recorder = Recorder()
    context.on("request", lambda request: recorder.requests.append(request.url))
    try:
        page = context.new_page()
        page.on("pageerror", lambda error: recorder.errors.append(str(error)))
        page.goto(base_url + widget_page, wait_until="load")
        wait_until_rendered(page)
        final = {}
        for player in players:
            indices = [axis["default"] for axis in player["axes"]]
            for axis_index, axis in enumerate(player["axes"]):
                where = f"{widget_page}, app {player['id']}, control {axis['name']}"
                before = page.evaluate(_PLAYER_STATE, player["id"])
                old_bytes = frame_file(site, widget_page, before["src"]).read_bytes()
                # a non-default value whose figure differs from the one shown (prefer the far end)
                candidates = sorted(
                    (i for i in range(len(axis["keys"])) if i != axis["default"]),
                    key=lambda i: -abs(i - axis["default"]),
                )
                for value_index in candidates:
                    trial = indices.copy()
                    trial[axis_index] = value_index
                    src = before["src"].rsplit("/", 1)[0] + f"/{frame_number(player, trial)}.webp"
                    if frame_file(site, widget_page, src).read_bytes() != old_bytes:
                        break
                else:
                    pytest.fail(f"{where}: no other value of this control changes the figure")
                indices = trial
                move(page, player, axis_index, value_index)
                frame = frame_number(player, indices)
                wait_for_frame(page, player["id"], frame)
                after = page.evaluate(_PLAYER_STATE, player["id"])
                assert after["readouts"] == player["readouts"][frame], (
                    f"{where}: readouts are not the frame's"
                )
                assert after["readouts"][axis_index] == axis["texts"][value_index]
                hash_ = unquote(page.evaluate("() => location.hash"))
                assert f"{player['id']}.{axis['name']}={axis['keys'][value_index]}" in hash_, (
                    f"{where}: hash {hash_!r}"
                )
            if player["axes"]:
                final[player["id"]] = (
                    frame_number(player, indices),
                    player["readouts"][frame_number(player, indices)],
                )

        if final:  # some app varies on the website (the others are all disabled, with the note)
            link = page.url
            assert "#" in link
            shared = context.new_page()
            shared.goto(link, wait_until="load")
            wait_until_rendered(shared)
        for player in (p for p in players if p["id"] in final):
            frame, readouts = final[player["id"]]
            wait_for_frame(shared, player["id"], frame)
            state = shared.evaluate(_PLAYER_STATE, player["id"])
            assert state["readouts"] == readouts, (
                f"{widget_page}: the link {link} does not restore app {player['id']}"
            )
        assert not recorder.errors, recorder.errors
        assert not recorder.foreign_requests(), (
            f"{widget_page}: requests left the site: {recorder.foreign_requests()[:5]}"
        )
    finally:
        context.close()


def test_a_link_with_a_hand_written_value_snaps_to_the_nearest_grid_point(
    browser, base_url: str, site: Path
) -> None:
    page_path, player = next(
        (info.path, player)
        for info in map(lambda p: builtsite.page_info(site, p), builtsite.pages(site))
        for player in info.players
        if any(a["numbers"] and len(a["keys"]) > 2 for a in player["axes"])
    )
    axis_index, axis = next(
        (i, a) for i, a in enumerate(player["axes"]) if a["numbers"] and len(a["keys"]) > 2
    )
    target = len(axis["keys"]) - 2
    written = axis["numbers"][target] * 1.01  # not a key on the grid
    context = browser.new_context(viewport=VIEWPORT)
    try:
        page = context.new_page()
        page.goto(
            f"{base_url}{page_path}#{player['id']}.{axis['name']}={written:.6g}", wait_until="load"
        )
        indices = [a["default"] for a in player["axes"]]
        indices[axis_index] = target
        wait_for_frame(page, player["id"], frame_number(player, indices))
    finally:
        context.close()


def test_the_player_works_from_a_file_url(browser, site: Path) -> None:
    page_path, player = next(
        (info.path, info.players[0])
        for info in map(lambda p: builtsite.page_info(site, p), builtsite.pages(site))
        if info.players and info.players[0]["axes"]
    )
    axis = player["axes"][0]
    value_index = 0 if axis["default"] != 0 else len(axis["keys"]) - 1
    indices = [a["default"] for a in player["axes"]]
    indices[0] = value_index
    context = browser.new_context(viewport=VIEWPORT)
    try:
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.goto((site / page_path).as_uri(), wait_until="load")
        page.wait_for_selector("html[data-ck-players]")
        move(page, player, 0, value_index)
        wait_for_frame(page, player["id"], frame_number(player, indices))
        link = page.url
        assert link.startswith("file://") and f"{player['id']}.{axis['name']}=" in unquote(link)
        again = context.new_page()
        again.goto(link, wait_until="load")
        wait_for_frame(again, player["id"], frame_number(player, indices))
        assert not errors, errors
    finally:
        context.close()
