// Runs guacamole-lite (the Node Guacamole web tier) in front of deskpod's guacd-compatible
// endpoint, exactly as a deployment would put it in front of guacd. Prints one JSON line
// {"token": ...} with an encrypted connection token, then serves until killed.
import { createRequire } from 'node:module';
import crypto from 'node:crypto';

const require = createRequire(import.meta.url);
const GuacamoleLite = require(`${process.env.DESKPOD_NODE_MODULES}/guacamole-lite`);
const [wsPort, guacdPort] = process.argv.slice(2).map(Number);
const key = crypto.randomBytes(16).toString('hex');  // 32 characters for AES-256

new GuacamoleLite({ port: wsPort }, { host: '127.0.0.1', port: guacdPort },
    { crypt: { cypher: 'AES-256-CBC', key }, log: { level: 'ERRORS' } });

const iv = crypto.randomBytes(16);
const cipher = crypto.createCipheriv('AES-256-CBC', key, iv);
const settings = { connection: { type: 'rdp', settings: { hostname: 'deskpod', port: '3389',
    'read-only': 'false', image: ['image/png', 'image/jpeg'] } } };
const value = Buffer.concat([cipher.update(JSON.stringify(settings), 'utf8'), cipher.final()]);
const token = Buffer.from(JSON.stringify({ iv: iv.toString('base64'),
    value: value.toString('base64') })).toString('base64');
process.stdout.write(JSON.stringify({ token }) + '\n');
