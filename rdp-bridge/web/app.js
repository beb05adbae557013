// deskpod's built-in web client: log in, then show the desktop through guacamole-common-js over
// the WebSocket tunnel. The desktop follows the window size, the keyboard goes to the desktop
// while it has focus, the clipboard syncs through the panel (and the browser's clipboard API
// where the browser allows it), and a dropped connection is retried with backoff.
import Guacamole from '/guacamole-common.js';

const $ = (id) => document.getElementById(id);
const view = { client: null, state: 'idle', wantConnected: false, backoff: 1000, clipboard: '' };
window.deskpod = view;  // for tests and the curious

function showLogin(message) {
    view.wantConnected = false;
    $('desktop').hidden = true;
    $('login').hidden = false;
    $('login-error').textContent = message || '';
    $('user').focus();
}

function setState(state, text) {
    view.state = state;
    const el = $('state');
    el.textContent = text;
    el.className = state === 'connected' ? 'connected'
        : state === 'disconnected' ? 'disconnected' : 'connecting';
}

async function sessionValid() {
    try {
        return (await fetch('/session', { cache: 'no-store' })).ok;
    } catch (e) {
        return false;
    }
}

$('login').addEventListener('submit', async (event) => {
    event.preventDefault();
    $('login-button').disabled = true;
    $('login-error').textContent = 'Checking…';
    try {
        const response = await fetch('/login', {
            method: 'POST',
            body: new URLSearchParams({ user: $('user').value, password: $('password').value }),
        });
        if (response.ok) {
            $('password').value = '';
            start();
        } else {
            const body = await response.json().catch(() => ({}));
            $('login-error').textContent = body.error || `Login failed (${response.status}).`;
        }
    } catch (e) {
        $('login-error').textContent = 'The server cannot be reached.';
    } finally {
        $('login-button').disabled = false;
    }
});

$('logout').addEventListener('click', async () => {
    view.wantConnected = false;
    if (view.client) view.client.disconnect();
    await fetch('/logout', { method: 'POST' }).catch(() => {});
    showLogin('Logged out.');
});

$('clipboard-toggle').addEventListener('click', () => {
    $('clipboard-panel').hidden = !$('clipboard-panel').hidden;
});
$('clipboard-send').addEventListener('click', () => sendClipboard($('clipboard').value));

function sendClipboard(text) {
    if (!view.client || view.state !== 'connected') return;
    view.clipboard = text;
    const stream = view.client.createClipboardStream('text/plain');
    const writer = new Guacamole.StringWriter(stream);
    writer.sendText(text);
    writer.sendEnd();
}

// Where the browser lets us read its clipboard (secure contexts, with permission), a copy made
// outside the page reaches the desktop when the page regains focus.
window.addEventListener('focus', async () => {
    if (!navigator.clipboard || !navigator.clipboard.readText) return;
    try {
        const text = await navigator.clipboard.readText();
        if (text && text !== view.clipboard) {
            $('clipboard').value = text;
            sendClipboard(text);
        }
    } catch (e) { /* not allowed here: the panel still works */ }
});

// The desktop gets device pixels (and, through the handshake's dpi, the matching HiDPI scale),
// and the display is shown at 1/ratio, so a 2x screen gets sharp pixels at the usual size.
function pixelRatio() {
    return window.devicePixelRatio || 1;
}

function displaySize() {
    const el = $('display');
    const ratio = pixelRatio();
    return [Math.max(320, Math.round(el.clientWidth * ratio)),
            Math.max(200, Math.round(el.clientHeight * ratio))];
}

let resizeTimer = null;
window.addEventListener('resize', () => {
    clearTimeout(resizeTimer);
    resizeTimer = setTimeout(() => {
        if (!view.client) return;
        view.client.getDisplay().scale(1 / pixelRatio());
        if (view.state === 'connected') view.client.sendSize(...displaySize());
    }, 200);
});

let focused = false;
function setFocused(on) {
    // Release held keys while the desktop still receives them, so none sticks down.
    if (!on && focused) keyboard.reset();
    focused = on;
    $('display').classList.toggle('focused', on);
}
const keyboard = new Guacamole.Keyboard(document);
keyboard.onkeydown = (keysym) => {
    if (!focused || !view.client) return true;  // let the page have it
    view.client.sendKeyEvent(1, keysym);
    return false;
};
keyboard.onkeyup = (keysym) => {
    if (!focused || !view.client) return;
    view.client.sendKeyEvent(0, keysym);
};
$('display').addEventListener('mousedown', () => { $('display').focus(); setFocused(true); });
$('display').addEventListener('focus', () => setFocused(true));
$('display').addEventListener('blur', () => setFocused(false));

function connect() {
    if (view.client) {
        view.client.onstatechange = null;
        view.client.disconnect();
    }
    setState('connecting', 'Connecting…');
    const tunnel = new Guacamole.WebSocketTunnel('/websocket-tunnel');
    const client = new Guacamole.Client(tunnel);
    view.client = client;
    const container = $('display');
    container.replaceChildren(client.getDisplay().getElement());
    client.getDisplay().scale(1 / pixelRatio());

    const mouse = new Guacamole.Mouse(client.getDisplay().getElement());
    const sendMouse = (state) => client.sendMouseState(state, true);
    if (mouse.onEach) {
        mouse.onEach(['mousedown', 'mouseup', 'mousemove'], (e) => sendMouse(e.state));
    } else {
        mouse.onmousedown = mouse.onmouseup = mouse.onmousemove = sendMouse;
    }

    client.onclipboard = (stream, mimetype) => {
        if (!/^text\//.test(mimetype)) return;
        const reader = new Guacamole.StringReader(stream);
        let text = '';
        reader.ontext = (chunk) => { text += chunk; };
        reader.onend = () => {
            view.clipboard = text;
            $('clipboard').value = text;
            if (navigator.clipboard && navigator.clipboard.writeText)
                navigator.clipboard.writeText(text).catch(() => {});
        };
    };

    client.onerror = (status) => {
        setState('disconnected', `Error: ${status.message || status.code}`);
    };

    client.onstatechange = async (state) => {
        switch (state) {
        case 1: case 2:
            setState('connecting', 'Connecting…');
            break;
        case 3:
            view.backoff = 1000;
            setState('connected', 'Connected');
            client.sendSize(...displaySize());
            break;
        case 5:
            if (view.client !== client) return;
            if (!view.wantConnected) {
                setState('disconnected', 'Disconnected');
                return;
            }
            // The tunnel refuses a missing or expired session: log in again.
            if (!(await sessionValid())) {
                showLogin('Your session ended; please log in again.');
                return;
            }
            const delay = view.backoff;
            view.backoff = Math.min(view.backoff * 2, 30000);
            setState('disconnected', `Disconnected; reconnecting in ${Math.round(delay / 1000)} s…`);
            setTimeout(() => { if (view.wantConnected && view.client === client) connect(); }, delay);
            break;
        }
    };

    const [width, height] = displaySize();
    const params = new URLSearchParams({
        width, height, dpi: Math.round(96 * pixelRatio()),
        timezone: Intl.DateTimeFormat().resolvedOptions().timeZone || '',
    });
    for (const type of ['image/png', 'image/jpeg', 'image/webp']) params.append('image', type);
    client.connect(params.toString());
}

function start() {
    $('login').hidden = true;
    $('desktop').hidden = false;
    view.wantConnected = true;
    view.backoff = 1000;
    connect();
    $('display').focus();
}

window.addEventListener('beforeunload', () => {
    view.wantConnected = false;
    if (view.client) view.client.disconnect();
});

sessionValid().then((ok) => (ok ? start() : showLogin()));
