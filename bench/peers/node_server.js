// node-smpp (npm "smpp" 0.5.1) as an SMSC, the peer of our SMSC simulator in figure 2.
// Usage: node node_server.js (NODE_PATH must reach a node_modules holding smpp; bench/setup.sh makes one).
// Same line protocol as bench/servers.py: prints {"port":N} once listening on 127.0.0.1, serves until
// stdin closes, then prints {"cpu":seconds,"stats":{...}}. Like our simulator with receipt_delay=0, it
// answers every submit_sm at once with a message id and, when registered_delivery asks, sends a
// deliver_sm receipt (esm_class 0x04, receipt text + receipted_message_id and message_state TLVs) right
// after the resp, through node-smpp's own PDU encoder and session. Binds are accepted for any account.
'use strict';
const smpp = require('smpp');

let nextId = 0x1000;
const stats = { submits: 0, receipts_sent: 0, sessions: 0 };

function receiptText(id) {
  return `id:${id} sub:001 dlvrd:001 submit date:2611231540 done date:2611231541 stat:DELIVRD err:000 text:`;
}

const server = smpp.createServer((session) => {
  stats.sessions += 1;
  const bind = (pdu) => session.send(pdu.response({ system_id: 'NODESMSC' }));
  ['bind_transceiver', 'bind_transmitter', 'bind_receiver'].forEach((c) => session.on(c, bind));
  session.on('submit_sm', (pdu) => {
    stats.submits += 1;
    const id = (nextId++).toString(16).toUpperCase();
    session.send(pdu.response({ message_id: id }));
    if (pdu.registered_delivery & 1) {
      stats.receipts_sent += 1;
      session.deliver_sm({
        source_addr_ton: pdu.dest_addr_ton, source_addr_npi: pdu.dest_addr_npi,
        source_addr: pdu.destination_addr,
        dest_addr_ton: pdu.source_addr_ton, dest_addr_npi: pdu.source_addr_npi,
        destination_addr: pdu.source_addr,
        esm_class: smpp.ESM_CLASS.MC_DELIVERY_RECEIPT,
        short_message: Buffer.from(receiptText(id), 'ascii'),
        receipted_message_id: id,
        message_state: smpp.MESSAGE_STATE.DELIVERED,
      });
    }
  });
  session.on('enquire_link', (pdu) => session.send(pdu.response()));
  session.on('unbind', (pdu) => session.send(pdu.response(), () => session.close()));
  session.on('error', () => {});
});

server.listen(0, '127.0.0.1', () => {
  process.stdout.write(JSON.stringify({ port: server.address().port }) + '\n');
});
process.stdin.on('end', () => {
  const cpu = process.cpuUsage();
  process.stdout.write(JSON.stringify({ cpu: (cpu.user + cpu.system) / 1e6, stats }) + '\n', () => process.exit(0));
});
process.stdin.resume();
