"""The card panel in a real headless Chromium (Debian's chromium + chromedriver,
driven by selenium), against a tapfido card behind pcscd + vpcd:

- the page loads with no console error (nothing SEVERE in the browser log);
- a click on "tap" removes the card and puts it back, as pcscd sees it
  (SCardGetStatusChange: empty, then present);
- a registration and a sign-in made by python-fido2 appear in the live log,
  decoded (CTAP command and status by name, CBOR keys named, paging folded),
  and the card's discoverable credential and signature counter appear;
- presence buttons switch the card's presence (checked through the JSON API);
- "copy hex" copies the exchange's frames.

    python3 tests/python/panel_browser.py --reader "Virtual PCD 00 00" \
        --control http://127.0.0.1:PORT [--slot 0] [--screenshot FILE]
"""

from __future__ import annotations

import json
import os
import re
import time
import urllib.request

from fido2.ctap2 import Ctap2
from selenium import webdriver
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select, WebDriverWait
from smartcard import scard

from tapfido_e2e import check, open_device, parser

ES256 = [{"type": "public-key", "alg": -7}]


def browser() -> webdriver.Chrome:
    opts = Options()
    opts.binary_location = os.environ.get("CHROMIUM", "/usr/bin/chromium")
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu",
                "--disable-dev-shm-usage", "--window-size=1280,1000",
                "--no-first-run", "--disable-extensions"):
        opts.add_argument(arg)
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    service = Service(os.environ.get("CHROMEDRIVER", "/usr/bin/chromedriver"))
    return webdriver.Chrome(service=service, options=opts)


def wait_reader(reader: str, present: bool, timeout: float) -> float:
    """Waits with SCardGetStatusChange until pcscd reports the card present or
    absent; returns when it did (monotonic seconds)."""
    rv, ctx = scard.SCardEstablishContext(scard.SCARD_SCOPE_USER)
    assert rv == scard.SCARD_S_SUCCESS, scard.SCardGetErrorMessage(rv)
    try:
        want = scard.SCARD_STATE_PRESENT if present else scard.SCARD_STATE_EMPTY
        state = scard.SCARD_STATE_UNAWARE
        deadline = time.monotonic() + timeout
        while True:
            left = int(max(0.0, deadline - time.monotonic()) * 1000)
            rv, states = scard.SCardGetStatusChange(ctx, left if state else 0, [(reader, state)])
            if rv not in (scard.SCARD_S_SUCCESS, scard.SCARD_E_TIMEOUT):
                raise AssertionError(scard.SCardGetErrorMessage(rv))
            _, event, _ = states[0]
            if event & want:
                return time.monotonic()
            if time.monotonic() >= deadline:
                raise AssertionError(f"{reader}: card never {'present' if present else 'absent'}")
            state = event & ~scard.SCARD_STATE_CHANGED
    finally:
        scard.SCardReleaseContext(ctx)


def status(base: str, slot: int) -> dict:
    req = urllib.request.Request(base.rstrip("/") + "/", headers={"Accept": "application/json"})
    with urllib.request.urlopen(req, timeout=10) as resp:
        doc = json.load(resp)
    return next(c for c in doc["cards"] if c["slot"] == slot)


def main() -> None:
    p = parser(__doc__)
    p.add_argument("--slot", type=int, default=0)
    p.add_argument("--screenshot", help="write a PNG of the panel here")
    args = p.parse_args()
    base = args.control.rstrip("/")
    slot = args.slot
    card_css = f"#card-{slot}"

    # The JSON API stays for clients that do not ask for HTML.
    with urllib.request.urlopen(base + "/", timeout=10) as resp:
        check(resp.headers["Content-Type"] == "application/json", "GET / without Accept: text/html is JSON")

    driver = browser()
    try:
        wait = WebDriverWait(driver, 15)
        driver.get(base + "/")
        check(driver.title == "tapfido card panel", "the panel is served at / to a browser")
        wait.until(lambda d: d.find_element(By.CSS_SELECTOR, card_css).get_attribute("data-link") == "connected")
        wait.until(lambda d: d.find_element(By.ID, "stream").text == "live")
        card = driver.find_element(By.CSS_SELECTOR, card_css)
        check(card.get_attribute("data-inserted") == "true", "the card is shown in the field")
        aaguid = card.find_element(By.CSS_SELECTOR, '[data-field="aaguid"]').text
        check(len(aaguid) == 36 and aaguid.count("-") == 4, f"AAGUID shown ({aaguid})")

        # tap: pcscd sees the card leave and come back.
        wait_reader(args.reader, True, 5)
        card.find_element(By.CSS_SELECTOR, 'button[data-action="tap"]').click()
        gone = wait_reader(args.reader, False, 5)
        back = wait_reader(args.reader, True, 10)
        check(back > gone, f"tap: pcscd saw the card removed, then back {back - gone:.2f} s later")
        wait.until(lambda d: "removed from the reader" in d.find_element(By.ID, "log").text)
        wait.until(lambda d: d.find_element(By.CSS_SELECTOR, card_css).get_attribute("data-link") == "connected")

        # python-fido2 registers (response paged with GET RESPONSE) and signs in.
        dev = open_device(args.reader)
        ctap = Ctap2(dev)
        info = ctap.get_info()
        att = ctap.make_credential(
            os.urandom(32), {"id": "panel.example", "name": "Panel Example"},
            {"id": b"alice-id", "name": "alice", "displayName": "Alice"}, ES256,
            options={"rk": True})
        cred = {"type": "public-key", "id": att.auth_data.credential_data.credential_id}
        assertion = ctap.get_assertion("panel.example", os.urandom(32), [cred])
        dev.close()
        check(assertion.auth_data.counter > 0, "python-fido2 registered and signed in")

        mc = '#log li.exchange[data-ctap="authenticatorMakeCredential"]'
        entry = wait.until(lambda d: d.find_element(By.CSS_SELECTOR, mc))
        head = entry.find_element(By.TAG_NAME, "summary")
        check("NFCCTAP_MSG authenticatorMakeCredential" in head.text, "the exchange is named")
        check("90 00 success · CTAP2_OK" in head.text, f"SW and CTAP status by name ({head.text!r})")
        frames = re.search(r"(\d+) frames", head.text)
        check(frames is not None and int(frames.group(1)) >= 2,
              f"GET RESPONSE paging folded into one exchange ({head.text!r})")
        head.click()
        cbor = [pre.text for pre in entry.find_elements(By.CSS_SELECTOR, "pre.cbor")]
        check(len(cbor) == 2, "request and response CBOR shown")
        check('1 /clientDataHash/: h\'' in cbor[0] and '2 /rp/: {"id": "panel.example"' in cbor[0],
              "request CBOR in diagnostic notation, keys named")
        check('1 /fmt/: "packed"' in cbor[1] and "2 /authData/: h'" in cbor[1],
              "response CBOR in diagnostic notation, keys named")
        gi = '#log li.exchange[data-ctap="authenticatorGetInfo"] summary'
        check(len(driver.find_elements(By.CSS_SELECTOR, gi)) >= 1, "getInfo in the log")
        check(len(driver.find_elements(By.CSS_SELECTOR, '#log li.exchange[data-ctap="authenticatorGetAssertion"]')) == 1,
              "getAssertion in the log")
        check(info.aaguid is not None, "getInfo answered")

        # The card's stored state: credential by RP, counter.
        wait.until(lambda d: "panel.example" in d.find_element(By.CSS_SELECTOR, card_css).text)
        text = driver.find_element(By.CSS_SELECTOR, card_css).text
        check("alice (Alice) · credProtect 1 · created #" in text, "the discoverable credential is listed")
        counter = driver.find_element(By.CSS_SELECTOR, f'{card_css} [data-field="signCount"]').text
        check(int(counter) == assertion.auth_data.counter, f"signature counter shown ({counter})")

        # Presence buttons (same-origin POSTs).
        driver.find_element(By.CSS_SELECTOR, f'{card_css} button[data-touch="withheld"]').click()
        wait.until(lambda d: d.find_element(By.CSS_SELECTOR, card_css).get_attribute("data-touch") == "withheld")
        check(status(base, slot)["touch"] == "withheld", "presence withheld through the panel")
        driver.find_element(By.CSS_SELECTOR, f'{card_css} button[data-touch="field"]').click()
        wait.until(lambda d: d.find_element(By.CSS_SELECTOR, card_css).get_attribute("data-touch") == "field")
        check(status(base, slot)["touch"] == "field", "presence back to the field rule")

        # Filter by card.
        Select(driver.find_element(By.ID, "filter")).select_by_value(str(slot))
        visible = [li for li in driver.find_elements(By.CSS_SELECTOR, "#log li") if li.is_displayed()]
        check(len(visible) > 0, "filtering on the card keeps its entries")

        # Copy as hex.
        driver.execute_cdp_cmd("Browser.grantPermissions", {
            "origin": base, "permissions": ["clipboardReadWrite", "clipboardSanitizedWrite"]})
        entry.find_element(By.CSS_SELECTOR, "button.copy").click()
        wait.until(lambda d: entry.find_element(By.CSS_SELECTOR, "button.copy").text != "copy hex")
        copied = driver.execute_async_script(
            "const done = arguments[0]; navigator.clipboard.readText().then(done, e => done('error: ' + e));")
        check(copied.startswith(">> 80 10 80 00") and "\n<< " in copied, "copy hex copies the frames")

        if args.screenshot:
            driver.execute_script("window.scrollTo(0, 0)")
            driver.save_screenshot(args.screenshot)
            print(f"screenshot: {args.screenshot}")

        severe = [e for e in driver.get_log("browser") if e["level"] == "SEVERE"]
        check(not severe, f"no console error ({severe})")
    finally:
        driver.quit()
    print("PASS")


if __name__ == "__main__":
    main()
