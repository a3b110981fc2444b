// An SMSC played by node-smpp (npm "smpp" 0.5.1, farhadi/node-smpp), an SMPP 3.4 implementation we did not
// write, for tests/integration/test_smpp_interop.py. Usage: node node_smsc.js SYSTEM_ID PASSWORD
// (NODE_PATH must point at a node_modules holding smpp). Listens on 127.0.0.1, a free port, and reports
// every PDU it sees as one JSON object per line on stdout; the first line is {"event":"listening","port":N}.
// Submits are answered in batches after 5 ms, so the largest batch shows the client's window in use.
// A submit asking for a receipt (registered_delivery bit 0) gets a deliver_sm receipt after its resp.
// The peer sends one enquire_link after the bind. It exits when its stdin closes.
'use strict';
const smpp = require('smpp');

const [systemId, password] = process.argv.slice(2);
const emit = (event, fields) => process.stdout.write(JSON.stringify({ event, ...fields }) + '\n');
let nextId = 0x5a000;

function receipt(session, submit, id) {
  const text = `id:${id} sub:001 dlvrd:001 submit date:2511231540 done date:2511231541 stat:DELIVRD err:000 text:`;
  session.deliver_sm({
    source_addr: submit.destination_addr,
    destination_addr: submit.source_addr,
    esm_class: smpp.ESM_CLASS.MC_DELIVERY_RECEIPT,
    data_coding: 0,
    short_message: Buffer.from(text, 'ascii'),
    receipted_message_id: id,
    message_state: smpp.MESSAGE_STATE.DELIVERED,
  }, (resp) => emit('deliver_sm_resp', { status: resp.command_status, id }));
}

const server = smpp.createServer((session) => {
  let batch = [];
  let timer = null;
  const flush = () => {
    timer = null;
    emit('batch', { size: batch.length });
    for (const [pdu, id] of batch) {
      session.send(pdu.response({ message_id: id }));
      if (pdu.registered_delivery & 1) receipt(session, pdu, id);
    }
    batch = [];
  };
  const bind = (pdu) => {
    if (pdu.system_id !== systemId || pdu.password !== password) {
      emit('bind_rejected', { system_id: pdu.system_id });
      session.send(pdu.response({ command_status: smpp.ESME_RINVPASWD }));
      return;
    }
    session.send(pdu.response({ system_id: 'NODESMSC' }));
    emit('bound', { command: pdu.command, system_id: pdu.system_id, version: pdu.interface_version });
    session.enquire_link({}, (resp) => emit('enquire_link_resp', { status: resp.command_status }));
  };
  ['bind_transceiver', 'bind_transmitter', 'bind_receiver'].forEach((c) => session.on(c, bind));
  session.on('submit_sm', (pdu) => {
    const id = (nextId++).toString(16).toUpperCase();
    batch.push([pdu, id]);
    const msg = pdu.short_message;
    emit('submit_sm', {
      id, sequence: pdu.sequence_number, destination: pdu.destination_addr, source: pdu.source_addr,
      data_coding: pdu.data_coding, text: msg && typeof msg.message === 'string' ? msg.message : null,
    });
    if (!timer) timer = setTimeout(flush, 5);
  });
  session.on('enquire_link', (pdu) => {
    emit('enquire_link', { sequence: pdu.sequence_number });
    session.send(pdu.response());
  });
  session.on('unbind', (pdu) => {
    emit('unbind', { sequence: pdu.sequence_number });
    session.send(pdu.response(), () => session.close());
  });
  session.on('unknown', (pdu) => emit('unknown', { command_id: pdu.command_id }));
  session.on('error', (err) => emit('error', { message: String(err) }));
  session.on('close', () => emit('close', {}));
});

server.listen(0, '127.0.0.1', () => emit('listening', { port: server.address().port }));
process.stdin.on('end', () => process.exit(0));
process.stdin.resume();
