"""The chat page's photos, albums, voice notes and places, in a real browser against `gridbot run` (no token).

A resident sends an album of sample photos with a caption and a place picked by clicking the county map (grid
boundaries and named places with a point from the county file, as the bot loaded it); then the sample voice note, one recorded with Chromium's fake microphone, and
pictures picked from disk (the map then has no boundaries: a coordinate grid). The tests check what the page shows and what the double stored, and that the bot answered,
not its wording. `-m browser`; skipped when playwright or /usr/bin/chromium is missing.
"""

from __future__ import annotations

import urllib.request
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.double.samples import sample_picture
from tests.test_sandbox import (
    RESIDENT,
    RESIDENT_NAME,
    ROOT,
    STEP_TIMEOUT,
    Sandbox,
    browser_session,
    play,
    playwright_or_skip,
)

CAPTION = "楼道里堆满了杂物，消防通道被堵住了"
# Grid boxes (west, south, east, north) for the test county; the sandbox's preset place lies in ld-01.
BOXES = {"ld-01": (119.400, 35.990, 119.415, 36.000), "ld-02": (119.415, 35.990, 119.430, 36.000),
         "ld-03": (119.400, 35.980, 119.430, 35.990), "mz-01": (119.400, 36.000, 119.430, 36.012)}
MARKET = {"name": "东关菜市场", "address": "东关大街 12 号", "location": [119.4112, 35.9968]}  # in ld-01
PLACES = {"ld-01": ["东关大街", MARKET]}  # a gazetteer: a name, and a place with a point (the only one drawn)
WAIT = STEP_TIMEOUT * 1000
FAKE_MICROPHONE = ("--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream")


def county_file(tmp_path: Path, boxes: dict[str, tuple[float, float, float, float]], places: dict | None = None) -> Path:
    """The demo county with these grid boundaries (GeoJSON Polygons) and no others, and these places by grid
    (names, or {name, address, location: [lon, lat]}), as bot/countymap.py reads a county file."""
    doc = yaml.safe_load((ROOT / "data" / "county.yaml").read_text(encoding="utf-8"))
    for township in doc["townships"]:
        for grid in township["grids"]:
            grid.pop("boundary", None)
            grid.pop("places", None)
            if grid["code"] in (places or {}):
                grid["places"] = places[grid["code"]]
            if grid["code"] in boxes:
                west, south, east, north = boxes[grid["code"]]
                ring = [[west, south], [east, south], [east, north], [west, north], [west, south]]
                grid["boundary"] = {"type": "Polygon", "coordinates": [ring]}
    path = tmp_path / "county.yaml"
    path.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    return path


def sent_by_resident(running: Sandbox, kind: str) -> list[dict]:
    return [r["message"] for r in sorted(running.msgs.values(), key=lambda r: r["message_id"])
            if r["chat_id"] == RESIDENT and not r["from_bot"] and kind in r["message"]]


def bot_answer_after(running: Sandbox, message_id: int, what: str) -> dict:
    return running.wait(lambda: next((r for r in running.bot_messages(RESIDENT) if r["message_id"] > message_id),
                                     None), what)


def download(running: Sandbox, file_id: str) -> bytes:
    """A file as the chat page fetches it."""
    with urllib.request.urlopen(f"{running.url}/_control/file/{file_id}", timeout=5) as r:
        return r.read()


def open_attachments(page: Any) -> None:
    play(page, RESIDENT_NAME, "与机器人私聊")
    page.get_by_test_id("attach").click()


@pytest.mark.browser
def test_a_resident_sends_an_album_and_a_place_picked_on_the_map(tmp_path: Path):
    expect = playwright_or_skip().expect
    with browser_session(tmp_path, county_file(tmp_path, BOXES, PLACES)) as (running, page):
        open_attachments(page)
        log = page.get_by_test_id("log")

        # three sample photos with a caption: one album
        page.get_by_test_id("photo-caption").fill(CAPTION)
        page.get_by_test_id("album-count").fill("3")
        page.get_by_test_id("sample-album").click()
        photos = running.wait(lambda: len(sent_by_resident(running, "photo")) >= 3 and sent_by_resident(running, "photo"),
                              "the double stores three photos")
        assert len(photos) == 3 and len({m["media_group_id"] for m in photos}) == 1, photos
        assert [m.get("caption") for m in photos] == [CAPTION, None, None]
        ids = [m["message_id"] for m in photos]
        album = log.locator(".msg.mine").filter(has=page.get_by_test_id("album"))
        expect(album).to_have_count(1)  # grouped in one bubble, not three
        expect(album).to_have_attribute("data-message-ids", " ".join(map(str, ids)))
        expect(album.locator("img.photo")).to_have_count(3)
        expect(album).to_contain_text(CAPTION)
        page.wait_for_function("() => [...document.querySelectorAll('[data-testid=album] img')]"
                               ".filter(i => i.complete && i.naturalWidth > 0).length === 3")  # real pictures
        answer = bot_answer_after(running, ids[-1], "the bot answers the album")
        expect(log.locator(f'.msg[data-message-id="{answer["message_id"]}"]')).to_be_visible(timeout=WAIT)
        page.screenshot(path=str(tmp_path / "1-album.png"))

        # a place picked on the map: a click in grid ld-01 fills its coordinates
        grid = page.locator('#map [data-grid="ld-01"]')
        expect(grid).to_be_visible()
        expect(page.get_by_test_id("map")).to_contain_text("龙都街道")
        page.get_by_test_id("lat").fill("")
        page.get_by_test_id("lon").fill("")
        grid.click()
        lat, lon = float(page.get_by_test_id("lat").input_value()), float(page.get_by_test_id("lon").input_value())
        west, south, east, north = BOXES["ld-01"]
        assert south < lat < north and west < lon < east, (lat, lon)
        page.get_by_test_id("send-location").click()
        place = running.wait(lambda: sent_by_resident(running, "location"), "the double stores the location")[-1]
        assert place["location"] == pytest.approx({"latitude": lat, "longitude": lon}, abs=1e-6)
        card = log.locator(f'.msg.mine[data-message-id="{place["message_id"]}"] .place')
        expect(card).to_contain_text(f"{lat:.6f}, {lon:.6f}")
        expect(card.locator("svg .pin")).to_have_count(1)  # a small map with the pin
        answer = bot_answer_after(running, place["message_id"], "the bot answers the location")
        expect(log.locator(f'.msg[data-message-id="{answer["message_id"]}"]')).to_be_visible(timeout=WAIT)
        page.screenshot(path=str(tmp_path / "2-location.png"))

        # a named place of the county file, clicked on the map, goes as a venue
        expect(page.locator("#map .placedot")).to_have_count(1)  # a name without a point is not drawn
        page.locator("#map .placedot").filter(has_text=MARKET["name"]).click()
        expect(page.get_by_test_id("lat")).to_have_value(f"{MARKET['location'][1]:.6f}")
        page.get_by_test_id("send-location").click()
        venue = running.wait(lambda: sent_by_resident(running, "venue"), "the double stores the venue")[-1]
        assert venue["venue"]["title"] == MARKET["name"] and venue["venue"]["address"] == MARKET["address"]
        assert venue["location"] == pytest.approx({"longitude": MARKET["location"][0], "latitude": MARKET["location"][1]})
        card = log.locator(f'.msg.mine[data-message-id="{venue["message_id"]}"] .place')
        expect(card).to_contain_text(MARKET["name"])
        expect(card).to_contain_text(MARKET["address"])
        page.screenshot(path=str(tmp_path / "3-venue.png"))


@pytest.mark.browser
def test_voice_notes_sampled_and_recorded_and_pictures_from_disk(tmp_path: Path):
    expect = playwright_or_skip().expect
    pictures = {name: sample_picture(n, 160, 90) for n, name in enumerate(("一.png", "二.png", "三.png"), start=4)}
    for name, data in pictures.items():
        (tmp_path / name).write_bytes(data)
    with browser_session(tmp_path, county_file(tmp_path, {}), browser_args=FAKE_MICROPHONE) as (running, page):
        open_attachments(page)
        log = page.get_by_test_id("log")
        # no boundaries: a plain coordinate grid to click on
        expect(page.locator("#map line.graticule:not(.faint)").first).to_be_attached()
        expect(page.locator("#map [data-grid]")).to_have_count(0)

        # the sample voice note: a real recording the browser plays, two seconds long
        page.get_by_test_id("voice-seconds").fill("2")
        page.get_by_test_id("sample-voice").click()
        voice = running.wait(lambda: sent_by_resident(running, "voice"), "the double stores a voice note")[-1]
        assert voice["voice"]["duration"] == 2 and voice["voice"]["mime_type"] == "audio/wav"
        bubble = log.locator(f'.msg.mine[data-message-id="{voice["message_id"]}"]')
        expect(bubble.locator("audio")).to_be_visible()
        expect(bubble).to_contain_text("0:02")
        page.wait_for_function("a => a.readyState >= 1 && Math.abs(a.duration - 2) < 0.05",
                               arg=bubble.locator("audio").element_handle())
        answer = bot_answer_after(running, voice["message_id"], "the bot answers the voice note")
        expect(log.locator(f'.msg[data-message-id="{answer["message_id"]}"]')).to_be_visible(timeout=WAIT)
        page.screenshot(path=str(tmp_path / "4-voice.png"))

        # recorded with the microphone (Chromium's fake one): MediaRecorder's bytes become the voice note
        record = page.get_by_test_id("record")
        expect(record).to_be_enabled()
        record.click()
        expect(page.locator("#recstate")).to_contain_text("录音中 0:01", timeout=WAIT)
        record.click()
        recorded = running.wait(lambda: len(sent_by_resident(running, "voice")) == 2
                                and sent_by_resident(running, "voice")[-1], "the recording reaches the double")
        assert recorded["voice"]["mime_type"] in ("audio/webm", "audio/ogg") and recorded["voice"]["duration"] >= 1
        audio = log.locator(f'.msg.mine[data-message-id="{recorded["message_id"]}"] audio')
        expect(audio).to_be_visible()
        page.wait_for_function("a => a.readyState >= 1 && !a.error", arg=audio.element_handle())  # it decodes

        # pictures from disk: one is a photo, three an album; the bytes are the files'
        files = page.get_by_test_id("photo-files")
        files.set_input_files(str(tmp_path / "一.png"))
        page.get_by_test_id("send-files").click()
        photo = running.wait(lambda: sent_by_resident(running, "photo"), "the double stores the photo")[-1]
        assert (photo["photo"][-1]["width"], photo["photo"][-1]["height"]) == (160, 90)
        assert download(running, photo["photo"][-1]["file_id"]) == pictures["一.png"]
        files.set_input_files([str(tmp_path / name) for name in pictures])
        expect(page.locator("#previews img")).to_have_count(3)
        page.get_by_test_id("photo-caption").fill(CAPTION)
        page.get_by_test_id("send-files").click()
        album = running.wait(lambda: len(sent_by_resident(running, "photo")) == 4 and sent_by_resident(running, "photo")[1:],
                             "the double stores the album")
        assert [download(running, m["photo"][-1]["file_id"]) for m in album] == list(pictures.values())
        assert [m.get("caption") for m in album] == [CAPTION, None, None]
        bubble = log.locator(".msg.mine").filter(has=page.get_by_test_id("album"))
        expect(bubble.locator("img.photo")).to_have_count(3)
        expect(page.locator("#previews img")).to_have_count(0)  # the picker is emptied once sent
        page.screenshot(path=str(tmp_path / "5-from-disk.png"))
