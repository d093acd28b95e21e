"""Retake the console screenshots the README shows (docs/img/*.png).

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
        browser.close()
    print(f"Wrote {OUT / 'calibration.png'} and {OUT / 'room.png'}")


if __name__ == "__main__":
    main()
