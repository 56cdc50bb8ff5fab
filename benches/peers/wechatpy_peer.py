"""The peer wechatpy (PyPI), with its own APIv2 helpers: calculate_signature(_hmac) and
dict_to_xml for the request, xmltodict (its parser) and the same signature functions to verify
the answer, and a requests.Session (what its WeChatPay client uses) for the call. Its WeChatPay
client itself cannot be used as is: it raises on answers without result_code (the authinfo answer
has none) and does not verify response signatures. Same inputs as wxface (inputs.json, written
by the `work` bench). Prints `name value unit` lines like benches/e2e.rs.

usage: python3 wechatpy_peer.py INPUTS_JSON MOCK_BASE_URL SECONDS   (PYTHONPATH = its install)
"""
import json
import statistics
import sys
import threading
import time

import requests
import xmltodict
from wechatpy.pay.utils import calculate_signature, calculate_signature_hmac, dict_to_xml

inputs = json.load(open(sys.argv[1], encoding="utf-8"))
base_url = sys.argv[2] if len(sys.argv) > 2 else ""
seconds = float(sys.argv[3]) if len(sys.argv) > 3 else 3.0
KEY = inputs["key"]
PATH = "/face/get_wxpayface_authinfo"


def fields(sign_type, device_id, now, nonce):
    return {
        "store_id": inputs["store_id"], "store_name": inputs["store_name"],
        "device_id": device_id, "rawdata": inputs["rawdata"], "appid": inputs["appid"],
        "mch_id": inputs["mch_id"], "now": str(now), "version": "1", "sign_type": sign_type,
        "nonce_str": nonce,
    }


def signer(sign_type):
    return calculate_signature_hmac if sign_type == "HMAC-SHA256" else calculate_signature


def request_body(sign_type, device_id="POS-01", now=None, nonce=None):
    data = fields(sign_type, device_id, now or inputs["now"], nonce or inputs["nonce_str"])
    return dict_to_xml(data, signer(sign_type)(data, KEY)).encode("utf-8")


def response(xml):
    data = dict(xmltodict.parse(xml)["xml"])
    received = data.pop("sign", "")
    sign_type = "HMAC-SHA256" if len(received) == 64 else "MD5"
    if data.get("return_code") != "SUCCESS" or signer(sign_type)(data, KEY) != received:
        raise ValueError("verification failed")
    if not data.get("authinfo"):
        raise ValueError("no authinfo")
    return data


def time_it(fn):
    batch = 100
    for _ in range(500):
        fn()
    samples = []
    end = time.perf_counter() + 2.0
    while time.perf_counter() < end or len(samples) < 5:
        t0 = time.perf_counter_ns()
        for _ in range(batch):
            fn()
        samples.append((time.perf_counter_ns() - t0) / batch)
    return statistics.median(samples) / 1000


def e2e(threads):
    calls = [0] * threads
    stop = [float("inf")]
    barrier = threading.Barrier(threads + 1)

    def worker(i):
        session = requests.Session()
        device = "POS-0%d" % i
        nonce = "x" * 32

        def call():
            body = request_body("HMAC-SHA256", device, int(time.time()), nonce)
            res = session.post(base_url + PATH, data=body,
                               headers={"Content-Type": "text/xml; charset=utf-8"}, timeout=10)
            res.raise_for_status()
            res.encoding = "utf-8"
            response(res.text)

        call()
        barrier.wait()
        while time.perf_counter() < stop[0]:
            call()
            calls[i] += 1

    ts = [threading.Thread(target=worker, args=(i,)) for i in range(threads)]
    for t in ts:
        t.start()
    # Each worker made one call before the barrier; all of them then run until `stop`.
    stop[0] = time.perf_counter() + seconds
    barrier.wait()
    t0 = time.perf_counter()
    for t in ts:
        t.join()
    return sum(calls) / (time.perf_counter() - t0)


for st in ("MD5", "HMAC-SHA256"):
    resp = inputs["response_md5"] if st == "MD5" else inputs["response_hmac"]
    response(resp)
    print("request/%s %.2f us" % (st, time_it(lambda: request_body(st))))
    print("response/%s %.2f us" % (st, time_it(lambda: response(resp))))
if base_url:
    for n in (1, 4):
        print("e2e/threads=%d %.0f calls/s" % (n, e2e(n)))
