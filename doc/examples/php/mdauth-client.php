<?php
/*
 * mdauth-client.php -- a worked example of an mdauth client in PHP: log in,
 * call a protected resource, refresh the token before it expires, log out.
 *
 * Needs php-cli and php-curl (Debian: apt-get install php-cli php-curl).
 *
 *   MDAUTH_PASSWORD='correct horse battery staple' \
 *       php mdauth-client.php https://localhost:8443 alice
 *
 * Settings, from the arguments or the environment:
 *
 *   argv[1] or MDAUTH_URL   the web server in front of mdauth
 *   argv[2] or MDAUTH_USER  the username
 *   MDAUTH_PASSWORD         the password (read from standard input when
 *                           unset; never an argument, which `ps` shows)
 *   MDAUTH_CA               a CA file to verify the server with (default:
 *                           the system's CAs)
 *   MDAUTH_REFRESH_MARGIN   refresh when fewer seconds than this are left
 *                           (default 60)
 *   MDAUTH_RESOURCE         the protected resource (default
 *                           /api/whoami.cgi, the example application of
 *                           deploy/app/)
 *
 * It prints a line per step and exits 0 when every step did what the API
 * promises, 1 otherwise.  The API is described in doc/api.md and
 * doc/openapi.yaml.
 */

declare(strict_types=1);

final class MdauthClient
{
    private ?string $token = null;      // never printed, never logged
    private int $expiresAt = 0;         // our clock, from expires_in
    private string $sessionId = '';

    public function __construct(
        private string $baseUrl,        // https://host:port
        private ?string $caFile,
        private int $refreshMargin,     // seconds
    ) {
    }

    /* POST /api/auth/login: a new session and its token. */
    public function login(string $username, string $password, string $device): void
    {
        [$status, $body] = $this->request('POST', '/api/auth/login',
            ['username' => $username, 'password' => $password, 'device' => $device]);
        if ($status !== 200) {
            throw new RuntimeException("login: refused ($status " . self::error($body) . ')');
        }
        $this->takeToken($body);
        $this->sessionId = $body['session_id'];
        printf("login: ok, session %s, token expires in %d s\n",
            $this->sessionId, $body['expires_in']);
    }

    /*
     * Refresh when the token has less than the margin left.  The old token
     * stops working at once, and presenting it again is taken for theft
     * (the whole session is revoked): from here on only the new one is used.
     */
    public function refreshIfDue(): void
    {
        $left = $this->expiresAt - time();
        if ($left >= $this->refreshMargin) {
            printf("refresh: %d s left (margin %d s): not due\n", $left, $this->refreshMargin);
            return;
        }
        [$status, $body] = $this->request('POST', '/api/auth/refresh');
        if ($status !== 200 || $body['session_id'] !== $this->sessionId) {
            throw new RuntimeException("refresh: failed ($status " . self::error($body) . ')');
        }
        $this->takeToken($body);
        printf("refresh: %d s left (margin %d s): refreshed, same session %s, expires in %d s\n",
            $left, $this->refreshMargin, $body['session_id'], $body['expires_in']);
    }

    /* GET a resource of the application that mdauth protects. */
    public function get(string $path): string|array
    {
        $this->refreshIfDue();
        [$status, $body] = $this->request('GET', $path);
        if ($status !== 200) {
            throw new RuntimeException("resource: GET $path -> $status " . self::error($body));
        }
        return $body;
    }

    /* POST /api/auth/logout, then show that the token is dead. */
    public function logout(): void
    {
        [$status, $body] = $this->request('POST', '/api/auth/logout');
        if ($status !== 200 || ($body['status'] ?? '') !== 'logged_out') {
            throw new RuntimeException("logout: failed ($status " . self::error($body) . ')');
        }
        print("logout: ok\n");
        [$status, $body] = $this->request('GET', '/api/auth/validate');
        if ($status !== 401) {
            throw new RuntimeException("check: the logged-out token got $status, not 401");
        }
        printf("check: the logged-out token is refused (401 %s)\n", self::error($body));
        $this->token = null;
    }

    private function takeToken(array $body): void
    {
        $this->token = $body['token'];
        $this->expiresAt = time() + $body['expires_in'];
    }

    private static function error(mixed $body): string
    {
        return is_array($body) ? (string)($body['error'] ?? '') : '';
    }

    /*
     * One request.  Returns the status and the body: decoded when it is
     * JSON (every answer of mdauth is), the text otherwise.
     */
    private function request(string $method, string $path, ?array $json = null): array
    {
        $headers = ['Accept: application/json'];
        if ($this->token !== null) {
            $headers[] = 'Authorization: Bearer ' . $this->token;
        }
        $curl = curl_init($this->baseUrl . $path);
        curl_setopt_array($curl, [
            CURLOPT_CUSTOMREQUEST => $method,
            CURLOPT_RETURNTRANSFER => true,
            CURLOPT_TIMEOUT => 10,
            CURLOPT_PROTOCOLS => CURLPROTO_HTTPS,    // the token never goes in clear
        ]);
        if ($this->caFile !== null) {
            curl_setopt($curl, CURLOPT_CAINFO, $this->caFile);
        }
        if ($method === 'POST') {
            /*
             * Even without a body, send Content-Length: 0 (curl does for an
             * empty POSTFIELDS): lighttpd answers a POST without
             * Content-Length with its own 411.
             */
            curl_setopt($curl, CURLOPT_POSTFIELDS,
                $json === null ? '' : json_encode($json, JSON_THROW_ON_ERROR));
            $headers[] = $json === null ? 'Content-Type:' : 'Content-Type: application/json';
        }
        curl_setopt($curl, CURLOPT_HTTPHEADER, $headers);
        $body = curl_exec($curl);
        if ($body === false) {
            $why = curl_error($curl);
            curl_close($curl);
            throw new RuntimeException("$method $path: $why");
        }
        $status = curl_getinfo($curl, CURLINFO_RESPONSE_CODE);
        $type = (string)curl_getinfo($curl, CURLINFO_CONTENT_TYPE);
        curl_close($curl);
        if (preg_match('~^application/json\b~i', $type)) {
            $body = json_decode($body, true, 16, JSON_THROW_ON_ERROR);
        }
        return [$status, $body];
    }
}

/* An environment variable, or the default when it is unset or empty. */
function env(string $name, ?string $default = null): ?string
{
    $value = getenv($name);
    return $value === false || $value === '' ? $default : $value;
}

$baseUrl = $argv[1] ?? env('MDAUTH_URL');
$username = $argv[2] ?? env('MDAUTH_USER');
if ($baseUrl === null || $username === null) {
    fwrite(STDERR, "usage: MDAUTH_PASSWORD=... php mdauth-client.php URL USERNAME\n");
    exit(2);
}
$password = env('MDAUTH_PASSWORD') ?? rtrim((string)fgets(STDIN), "\r\n");
$resource = env('MDAUTH_RESOURCE', '/api/whoami.cgi');

try {
    $client = new MdauthClient(rtrim($baseUrl, '/'), env('MDAUTH_CA'),
        (int)env('MDAUTH_REFRESH_MARGIN', '60'));
    $client->login($username, $password, 'php example');
    for ($i = 0; $i < 2; $i++) {
        $answer = $client->get($resource);
        /* A JSON resource comes back decoded; show its first line either way. */
        $text = is_string($answer) ? $answer : json_encode($answer, JSON_THROW_ON_ERROR);
        printf("resource: GET %s -> 200, %s\n", $resource, strtok($text, "\n"));
    }
    $client->logout();
} catch (Throwable $e) {
    fwrite(STDERR, 'error: ' . $e->getMessage() . "\n");
    exit(1);
}
print("done\n");
