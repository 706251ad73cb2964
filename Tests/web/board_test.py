#!/usr/bin/env python3
"""The web board in a real browser: Debian's chromium driven by Playwright (pinned; no browser download).

Usage: board_test.py BUILD_DIR [--screenshot PNG]

Runs the built andond on the example plant (a temp copy: its own socket, UDP and HTTP ports on 127.0.0.1, state
directory and acknowledge key), andon-notify against Tests/notify/receiver.py, and checks what a team leader sees:
the page loads; a raised call appears within 1 s; it flashes; `andonctl ack` makes it steady; killing andond shows
the banner within 5 s and a restart clears it; an acknowledge link from a notification works end to end (GET shows
the call, POST acknowledges once, a second POST is refused). With --screenshot, a board of a busy moment is saved.
Prints `ok`/`FAIL` lines and `board: N passed, M failed`; exits 1 on any failure.
"""
import json
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

from playwright.sync_api import sync_playwright

root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
build = os.path.abspath(sys.argv[1])
shot = sys.argv[sys.argv.index("--screenshot") + 1] if "--screenshot" in sys.argv else None
passed = failed = 0


def check(ok, what):
    global passed, failed
    if ok:
        passed += 1
        print("ok     " + what, flush=True)
    else:
        failed += 1
        print("FAIL   " + what, flush=True)
    return ok


def free_port(kind=socket.SOCK_STREAM):
    with socket.socket(socket.AF_INET, kind) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def until(predicate, seconds, step=0.05):
    deadline = time.time() + seconds
    while time.time() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(step)
    return predicate()


work = tempfile.mkdtemp(prefix="andond-board-")
http_port, udp_port = free_port(), free_port(socket.SOCK_DGRAM)
sock = os.path.join(work, "andond.sock")
key = os.path.join(work, "ack.key")
with open(key, "w") as f:
    f.write(secrets.token_hex(32) + "\n")
os.chmod(key, 0o600)

receiver_port_file, receiver_log = os.path.join(work, "receiver.port"), os.path.join(work, "receiver.log")
receiver = subprocess.Popen([sys.executable, os.path.join(root, "Tests/notify/receiver.py"), receiver_port_file,
                             receiver_log])
until(lambda: os.path.exists(receiver_port_file) and open(receiver_port_file).read().strip(), 10)
receiver_port = int(open(receiver_port_file).read())

config = open(os.path.join(root, "etc/andond/andond.yaml")).read()
config = config.replace('url: "http://127.0.0.1:8080/"', 'url: "http://127.0.0.1:%d/"' % receiver_port)
config = re.sub(r"^# notify: \{ ack_url: [^\n]*$",
                'notify: { user: root, ack_url: "http://127.0.0.1:%d/ack/", ack_key_file: %s, ack_valid_for: 1h }'
                % (http_port, key), config, flags=re.M)
config_path = os.path.join(work, "andond.yaml")
with open(config_path, "w") as f:
    f.write(config)

andond_args = [os.path.join(build, "andond"), "--config", config_path, "--socket", sock, "--udp",
               "127.0.0.1:%d" % udp_port, "--http", "127.0.0.1:%d" % http_port, "--state-directory",
               os.path.join(work, "state"), "--no-echo"]


def start_andond():
    process = subprocess.Popen(andond_args, stderr=open(os.path.join(work, "andond.err"), "a"))
    until(lambda: ctl("ping")[0] == 0, 30)
    return process


def ctl(*args):
    result = subprocess.run([os.path.join(build, "andonctl"), "--socket", sock] + list(args), capture_output=True,
                            text=True)
    return result.returncode, result.stdout + result.stderr


udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
udp.settimeout(5)


def signal_(message):
    for _ in range(5):
        udp.sendto(message.encode(), ("127.0.0.1", udp_port))
        try:
            reply = udp.recv(65536).decode().strip()
            while reply.startswith("state "):  # the line's feedback, not a reply
                reply = udp.recv(65536).decode().strip()
            return reply
        except socket.timeout:
            continue
    return "no reply"


def incident_of(reply):
    m = re.search(r"incident=(\d+)", reply)
    return int(m.group(1)) if m else None


andond = start_andond()
notify = subprocess.Popen([os.path.join(build, "andon-notify"), "--config", config_path, "--socket", sock],
                          stderr=open(os.path.join(work, "notify.err"), "a"))
base = "http://127.0.0.1:%d" % http_port
try:
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 1920, "height": 1080})
        page.goto(base + "/")
        check(until(lambda: page.locator("section.line").count() == 3, 5), "the board loads with the plant's 3 lines")
        check(page.locator("#banner").is_hidden(), "no banner while connected")

        seq = [100]

        def raise_(text):
            seq[0] += 1
            return incident_of(signal_(text + " seq=%d" % seq[0]))

        started = time.time()
        first = raise_("andon line=L1 station=S3 category=help")
        call = page.locator('[data-incident="%d"]' % first)
        call.wait_for(timeout=5000)
        shown = time.time() - started
        check(shown <= 1.0, "a raised call appears on the board within 1 s (%.0f ms)" % (shown * 1000))
        check(call.get_attribute("data-state") == "open", "... as open, NO RESPONSE")

        def backgrounds(seconds):
            seen = set()
            end = time.time() + seconds
            while time.time() < end:
                # The board re-renders each second: read the row attached now (a detached one has no style).
                colour = page.evaluate(
                    "id => { const e = document.querySelector(`[data-incident=\"${id}\"]`);"
                    " return e ? getComputedStyle(e).backgroundColor : ''; }", first)
                if colour:
                    seen.add(colour)
                time.sleep(0.1)
            return seen

        check(len(backgrounds(1.5)) >= 2, "an unacknowledged call flashes")
        status, out = ctl("ack", str(first))
        check(status == 0, "andonctl ack %d: %s" % (first, out.strip()))
        check(until(lambda: call.get_attribute("data-state") == "acknowledged", 1.0),
              "andonctl ack shows on the board within 1 s")
        check(len(backgrounds(1.5)) == 1, "an acknowledged call is steady")

        andond.send_signal(signal.SIGKILL)
        andond.wait()
        killed = time.time()
        page.locator("#banner").wait_for(state="visible", timeout=8000)
        lost = time.time() - killed
        check(lost <= 5.0, "killing andond shows the banner within 5 s (%.1f s)" % lost)
        andond = start_andond()
        restarted = time.time()
        page.locator("#banner").wait_for(state="hidden", timeout=15000)
        check(True, "a restart clears the banner (%.1f s after the restart)" % (time.time() - restarted))
        check(until(lambda: page.locator('[data-incident="%d"]' % first).count() == 1, 5),
              "the call is still on the board after the restart")

        # The acknowledge link, from the notification andon-notify sent to the receiver.
        second = raise_("andon line=L2 station=S5 category=help")

        def link():
            if not os.path.exists(receiver_log):
                return None
            pattern = r'"url":"(http://127\.0\.0\.1:%d/ack/1\.%d\.[^"]+)"' % (http_port, second)
            for line in open(receiver_log):
                m = re.search(pattern, json.loads(line).get("body", ""))
                if m:
                    return m.group(1)
            return None

        url = until(link, 20, 0.2)
        check(url is not None, "the notification of call %d carries an acknowledge link" % second)
        if url:
            phone = browser.new_page(viewport={"width": 412, "height": 915})
            response = phone.goto(url)
            check(response.status == 200 and "Acknowledge as" in phone.content(),
                  "GET on the link shows the call and a button")
            check(ctl("status", "--json")[1].count('"acknowledgedBy"') == 1, "... and acknowledges nothing by itself")
            phone.click("button")
            phone.wait_for_load_state()
            check("Acknowledged" in phone.content(), "the button acknowledges: %s" %
                  phone.locator("p").first.text_content())
            board_call = page.locator('[data-incident="%d"]' % second)
            check(until(lambda: board_call.get_attribute("data-state") == "acknowledged", 2),
                  "the board shows the link's acknowledgement")
            again = urllib.request.Request(url, method="POST")
            try:
                urllib.request.urlopen(again)
                status = 200
            except urllib.error.HTTPError as error:
                status = error.code
            check(status == 409, "the link works once (a second POST: %d)" % status)
            listing = json.loads(re.search(r"\{.*\}", ctl("status", "--json")[1], re.S).group(0))
            acked = [c for c in listing["incidents"] if c["id"] == second]
            check(acked and acked[0].get("acknowledgedBy"), "status says who acknowledged call %d" % second)

        if shot:
            # A busy moment for the picture: a line stop, a safety call, a drill, one on site.
            raise_("stop line=L1 station=S1 reason=jam")
            raise_("andon line=L3 station=P2 category=safety text=\"oil on the floor at P2\"")
            raise_("andon line=L2 station=S7 category=material drill=1")
            on_site = raise_("andon line=L3 station=P7 category=quality")
            seq[0] += 1
            signal_("arrived line=L3 station=P7 responder=ines seq=%d" % seq[0])
            time.sleep(2.5)
            page.screenshot(path=shot)
            print("board: screenshot in " + shot, flush=True)
        browser.close()
finally:
    for process in (notify, andond, receiver):
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()

print("board: %d passed, %d failed" % (passed, failed))
sys.exit(1 if failed else 0)
