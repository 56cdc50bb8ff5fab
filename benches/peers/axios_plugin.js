// The peer wechatpay-axios-plugin (npm), driven the way its README shows for APIv2: its
// Transformer signs and encodes the request and parses and verifies the answer, and its
// xmlBased axios instance makes the call. Same inputs as wxface (inputs.json, written by the
// `work` bench). Prints `name value unit` lines like benches/e2e.rs.
//
// usage: node axios_plugin.js INPUTS_JSON MOCK_BASE_URL SECONDS   (NODE_PATH = its node_modules)
'use strict';
const fs = require('fs');
const http = require('http');
const { Transformer, Decorator, Hash } = require('wechatpay-axios-plugin');

const [inputsPath, baseURL, secondsArg] = process.argv.slice(2);
const inputs = JSON.parse(fs.readFileSync(inputsPath, 'utf8'));
const seconds = Number(secondsArg || 3);
const url = '/face/get_wxpayface_authinfo';
const key = Hash.keyObjectFrom(Buffer.from(inputs.key));
const trans = new Transformer(inputs.mch_id, key);
const ctx = { url, method: 'post' };

function fields(signType, deviceId, now, nonce) {
  const f = {
    store_id: inputs.store_id,
    store_name: inputs.store_name,
    device_id: deviceId,
    rawdata: inputs.rawdata,
    appid: inputs.appid,
    mch_id: inputs.mch_id,
    now: String(now),
    version: '1',
    sign_type: signType,
  };
  if (nonce) f.nonce_str = nonce;
  return f;
}

const requestBody = (signType) =>
  Transformer.toXml.call(ctx, trans.signer.call(ctx, fields(signType, 'POS-01', inputs.now, inputs.nonce_str)));

function response(xml) {
  const data = trans.verifier.call(ctx, Transformer.toObject.call(ctx, xml), {}, 200);
  if (data instanceof Error || !data.authinfo) throw new Error(`verification failed: ${data}`);
  return data;
}

// Median time per call over batches, after a warm-up.
function timeIt(fn) {
  const batch = 200;
  const end = Date.now() + 2000;
  for (let i = 0; i < 2000; i += 1) fn();
  const samples = [];
  while (Date.now() < end || samples.length < 5) {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < batch; i += 1) fn();
    samples.push(Number(process.hrtime.bigint() - t0) / batch);
  }
  samples.sort((a, b) => a - b);
  return samples[samples.length >> 1] / 1000;
}

async function e2e(concurrency) {
  const agent = new http.Agent({ keepAlive: true });
  const client = Decorator.xmlBased({ mchid: inputs.mch_id, secret: inputs.key, baseURL, httpAgent: agent });
  const call = async (device) => {
    const res = await client.post(url, fields('HMAC-SHA256', device, Math.floor(Date.now() / 1000)));
    if (!res.data || !res.data.authinfo) throw new Error('no authinfo');
  };
  await call('POS-00');
  let calls = 0;
  const t0 = process.hrtime.bigint();
  const stop = Date.now() + seconds * 1000;
  await Promise.all(Array.from({ length: concurrency }, async (_, i) => {
    const device = `POS-0${i}`;
    while (Date.now() < stop) {
      await call(device); // eslint-disable-line no-await-in-loop
      calls += 1;
    }
  }));
  const secs = Number(process.hrtime.bigint() - t0) / 1e9;
  agent.destroy();
  return calls / secs;
}

(async () => {
  for (const [st, name] of [['MD5', 'MD5'], ['HMAC-SHA256', 'HMAC-SHA256']]) {
    const resp = st === 'MD5' ? inputs.response_md5 : inputs.response_hmac;
    response(resp);
    console.log(`request/${name} ${timeIt(() => requestBody(st)).toFixed(2)} us`);
    console.log(`response/${name} ${timeIt(() => response(resp)).toFixed(2)} us`);
  }
  if (baseURL) {
    for (const n of [1, 4]) console.log(`e2e/threads=${n} ${(await e2e(n)).toFixed(0)} calls/s`);
  }
})().catch((e) => { console.error(e); process.exit(1); });
