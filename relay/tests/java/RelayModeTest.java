import com.wxface.Authinfo;
import com.wxface.AuthinfoRequest;
import com.wxface.CallOptions;
import com.wxface.WxFaceClient;
import com.wxface.WxFaceConfig;
import com.wxface.WxFaceException;

/**
 * The Java API in relay mode, with no API key configured, against a wxface-relay in front of
 * the mock: java RelayModeTest RELAY_URL TOKEN DEVICE_ID. Prints "N passed, 0 failed" last.
 */
public final class RelayModeTest {
    private static int passed;
    private static int failed;

    private static void check(boolean ok, String what) {
        if (ok) {
            passed++;
            System.out.println("ok: " + what);
        } else {
            failed++;
            System.out.println("FAIL: " + what);
        }
    }

    private static AuthinfoRequest request(String store, String device, String rawdata) {
        return new AuthinfoRequest(store, "深圳南山科技园店", device, rawdata);
    }

    public static void main(String[] args) throws Exception {
        String url = args[0];
        String token = args[1];
        String device = args[2];
        WxFaceConfig config = WxFaceConfig.relayBuilder(url).relayToken(token).maxRetries(0).build();
        check(url.equals(config.getRelayUrl()), "getRelayUrl");
        check(!config.toString().contains(token.substring(4)), "toString hides the token");
        try (WxFaceClient client = new WxFaceClient(config)) {
            Authinfo first = client.getAuthinfo(request("1001", device, "rawdata"));
            check(first.getAuthinfo().startsWith("MOCKAUTHINFO"), "authinfo through the relay");
            check(first.getExpiresIn() > 3000, "expires_in");
            check("1900000109".equals(first.getMchId()), "mch_id from the relay");
            check(!first.isFromCache(), "first call not from cache");
            Authinfo second = client.getAuthinfo(request("1001", device, "rawdata"));
            check(second.isFromCache() && second.getAuthinfo().equals(first.getAuthinfo()),
                    "second call from the library's cache");
            CallOptions noCache = CallOptions.DEFAULT.withUseCache(false);
            try {
                client.getAuthinfo(request("1002", device, "MOCK:signed-error"), noCache);
                check(false, "WeChat's refusal throws");
            } catch (WxFaceException e) {
                check(e.getStatus() == WxFaceException.REMOTE, "status REMOTE: " + e.getStatus());
                check("ERROR".equals(e.getReturnCode()), "return code ERROR");
                check("无效的RawData数据".equals(e.getReturnMsg()), "return msg");
            }
            try {
                client.getAuthinfo(request("1002", "POS-02", "rawdata"), noCache);
                check(false, "another device id throws");
            } catch (WxFaceException e) {
                check(e.getStatus() == WxFaceException.HTTP_STATUS
                        && e.getMessage().contains("403"), "403 for another device: " + e);
            }
        }
        WxFaceConfig bad = WxFaceConfig.relayBuilder(url).relayToken("wxr_unknown").build();
        try (WxFaceClient client = new WxFaceClient(bad)) {
            client.getAuthinfo(request("1001", device, "rawdata"));
            check(false, "an unknown token throws");
        } catch (WxFaceException e) {
            check(e.getStatus() == WxFaceException.HTTP_STATUS && e.getMessage().contains("401"),
                    "401 for an unknown token: " + e);
        }
        try {
            new WxFaceClient(WxFaceConfig.relayBuilder(url).build()).close();
            check(false, "relay mode without a credential is refused");
        } catch (IllegalArgumentException e) {
            check(e.getMessage().contains("relay_token"), "refused naming relay_token: " + e.getMessage());
        }
        System.out.println(passed + " passed, " + failed + " failed");
        System.exit(failed == 0 ? 0 : 1);
    }
}
