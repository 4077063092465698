# Portico: send a request again after a 429 (throttled, quota exceeded) or 503 answer.
#
# Prepended to ApiClient#call_api. It waits the seconds of the Retry-After header, or else an exponential
# backoff with jitter, up to max_retries times; a Retry-After longer than max_retry_after (a quota that
# resets tonight) raises the ApiError at once, as does the last answer when the retries are used up.
# The gateway refuses throttled requests before they reach the API, so retrying them is safe for every
# method. Change the policy with __RUBY_MODULE__::PorticoRetry.max_retries = 5 (0 turns it off).
require 'time'

module __RUBY_MODULE__
  module PorticoRetry
    RETRY_STATUSES = [429, 503].freeze

    class << self
      attr_accessor :max_retries, :base_delay, :max_delay, :max_retry_after

      # Seconds to wait before the next try, or nil when the error should be raised.
      def delay(error, retries)
        return nil unless RETRY_STATUSES.include?(error.code) && retries < max_retries

        wait = parse_retry_after(header(error.response_headers, 'retry-after'))
        return(wait <= max_retry_after ? wait : nil) unless wait.nil?

        ceiling = [max_delay, base_delay * (2**retries)].min
        (ceiling / 2) + (rand * ceiling / 2)
      end

      def parse_retry_after(value)
        text = value.to_s.strip
        return nil if text.empty?
        return text.to_f if text.match?(/\A\d+\z/)

        [Time.httpdate(text) - Time.now, 0].max
      rescue ArgumentError
        nil
      end

      def header(headers, name)
        return nil if headers.nil?

        found = headers.to_h.find { |key, _| key.to_s.casecmp?(name) }
        found && Array(found.last).first
      end
    end

    self.max_retries = 3
    self.base_delay = 0.5
    self.max_delay = 20.0
    self.max_retry_after = 60.0

    def call_api(http_method, path, opts = {})
      retries = 0
      begin
        super
      rescue ApiError => e
        wait = PorticoRetry.delay(e, retries)
        raise if wait.nil?

        sleep(wait)
        retries += 1
        retry
      end
    end
  end

  ApiClient.prepend(PorticoRetry)
end
