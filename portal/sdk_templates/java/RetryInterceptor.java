package __INVOKER_PACKAGE__;

import java.io.IOException;
import java.time.Duration;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.util.concurrent.ThreadLocalRandom;

import okhttp3.Interceptor;
import okhttp3.Request;
import okhttp3.Response;

/**
 * Portico: sends a request again after a 429 (throttled, quota exceeded) or 503 answer.
 *
 * <p>ApiClient adds one to its OkHttp client. It waits the seconds of the Retry-After header, or else an
 * exponential backoff with jitter, up to {@code maxRetries} times; a Retry-After longer than
 * {@code maxRetryAfterMillis} (a quota that resets tonight) is returned at once. The gateway refuses
 * throttled requests before they reach the API, so retrying them is safe for every method. To change the
 * policy, give ApiClient an OkHttp client of your own: {@code apiClient.setHttpClient(new OkHttpClient.Builder()
 * .addInterceptor(new RetryInterceptor(5, 500, 20000, 60000)).build())}; one without it does not retry.
 */
public class RetryInterceptor implements Interceptor {
    private final int maxRetries;
    private final long baseDelayMillis;
    private final long maxDelayMillis;
    private final long maxRetryAfterMillis;

    public RetryInterceptor() {
        this(3, 500, 20_000, 60_000);
    }

    public RetryInterceptor(int maxRetries, long baseDelayMillis, long maxDelayMillis, long maxRetryAfterMillis) {
        this.maxRetries = maxRetries;
        this.baseDelayMillis = baseDelayMillis;
        this.maxDelayMillis = maxDelayMillis;
        this.maxRetryAfterMillis = maxRetryAfterMillis;
    }

    @Override
    public Response intercept(Chain chain) throws IOException {
        Request request = chain.request();
        Response response = chain.proceed(request);
        for (int retries = 0; ; retries++) {
            long delay = delayMillis(response.code(), response.header("Retry-After"), retries);
            if (delay < 0) {
                return response;
            }
            response.close();
            try {
                Thread.sleep(delay);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IOException("interrupted while waiting to retry", e);
            }
            response = chain.proceed(request);
        }
    }

    /** The milliseconds to wait before the next try, or -1 when the answer should be returned. */
    long delayMillis(int status, String retryAfterHeader, int retriesDone) {
        if ((status != 429 && status != 503) || retriesDone >= maxRetries) {
            return -1;
        }
        Long retryAfter = parseRetryAfter(retryAfterHeader);
        if (retryAfter != null) {
            return retryAfter <= maxRetryAfterMillis ? retryAfter : -1;
        }
        long ceiling = Math.min(maxDelayMillis, baseDelayMillis << Math.min(retriesDone, 20));
        return ceiling / 2 + ThreadLocalRandom.current().nextLong(ceiling / 2 + 1);
    }

    /** Retry-After as milliseconds: delay-seconds or an HTTP date; null when absent or unreadable. */
    static Long parseRetryAfter(String value) {
        if (value == null || value.trim().isEmpty()) {
            return null;
        }
        String text = value.trim();
        if (text.matches("\\d+")) {
            return Long.parseLong(text) * 1000;
        }
        try {
            ZonedDateTime when = ZonedDateTime.parse(text, DateTimeFormatter.RFC_1123_DATE_TIME);
            return Math.max(0, Duration.between(ZonedDateTime.now(), when).toMillis());
        } catch (DateTimeParseException e) {
            return null;
        }
    }
}
