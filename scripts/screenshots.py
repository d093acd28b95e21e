"""Retake the consoles' screenshots the README shows (docs/img/*.png): the admin's calibration
list, a calibration, a room, the home page with what needs a person, an out-of-tolerance
calibration's impact, and the browsable API's form.

Run against a server with the demo data (`make run` in another terminal), then:

    .venv/bin/python scripts/screenshots.py [--url http://127.0.0.1:8000] [--user admin --password admin]

Drives Debian's chromium through Playwright, as the browser tests do; nothing is downloaded.
"""

import argparse
import os
from pathlib import Path

from playwright.sync_api import sync_playwright

OUT = Path(__file__).resolve().parents[1] / "docs" / "img"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default="http://127.0.0.1:8000")
    parser.add_argument("--user", default="admin")
    parser.add_argument("--password", default="admin")
    parser.add_argument("--room", default="lab-1", help="the room whose page to show")
    args = parser.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium"),
            headless=True,
            args=["--no-sandbox", "--disable-gpu"],
        )
        page = browser.new_page(viewport={"width": 1280, "height": 860})
        page.goto(f"{args.url}/admin/login/")
        page.fill("#id_username", args.user)
        page.fill("#id_password", args.password)
        page.click("input[type=submit]")
        page.wait_for_selector("#site-name")

        page.goto(f"{args.url}/admin/calibrations/calibration/")
        page.locator("#result_list tbody tr th a").first.click()
        page.wait_for_selector("#tag_assignments-group")
        page.screenshot(path=str(OUT / "calibration.png"), full_page=True)

        page.goto(f"{args.url}/admin/measurements/room/{args.room}/change/")
        page.wait_for_selector("svg.temperature-chart")
        page.locator("#room-temperatures").screenshot(path=str(OUT / "room.png"))

        page.goto(f"{args.url}/admin/calibrations/calibration/")
        page.screenshot(path=str(OUT / "calibrations.png"))

        # What needs a person, then the demo's thermometer found out of tolerance.
        page.goto(f"{args.url}/admin/")
        page.screenshot(path=str(OUT / "console-home.png"))
        page.goto(f"{args.url}/admin/calibrations/calibration/?in_tolerance__exact=0")
        page.locator("#result_list tbody tr th a").first.click()
        page.locator("fieldset:has(#impact-panel)").screenshot(path=str(OUT / "impact.png"))

        # The integrators' console: signed in through DRF's own login, an HTML form filled in.
        api = browser.new_page(viewport={"width": 1280, "height": 800})
        api.goto(f"{args.url}/api/calibrations")
        api.click("text=Log in")
        api.fill("#id_username", args.user)
        api.fill("#id_password", args.password)
        api.click("button[type=submit], input[type=submit]")
        form = api.locator("#post-object-form form")
        form.locator("[name=calibration_type]").fill("gain")
        form.locator("[name=value]").fill("1.02")
        form.locator("[name=username]").fill("alice")
        form.scroll_into_view_if_needed()
        api.evaluate("window.scrollBy(0, 120)")
        api.screenshot(path=str(OUT / "browsable-api.png"))
        browser.close()
    names = ", ".join(
        f"{name}.png"
        for name in (
            "calibration",
            "room",
            "calibrations",
            "console-home",
            "impact",
            "browsable-api",
        )
    )
    print(f"Wrote {names} in {OUT}")


if __name__ == "__main__":
    main()
