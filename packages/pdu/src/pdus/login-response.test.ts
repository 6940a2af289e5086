import { hex, vectorSuite } from './vector-harness.js'

vectorSuite('Login Response (RFC 7143 11.13)', [
  {
    title: 'success, transit to full feature phase, with text',
    bytes: hex`
      23 87 00 00                // 0: opcode 0x23; 1: T=1 C=0 CSG=1 NSG=3; 2: Version-max 0; 3: Version-active 0
      00 00 00 08                // 4: no AHS; DataSegmentLength 8
      80 12 34 56 00 01          // 8: ISID
      00 2a                      // 14: TSIH 42
      00 00 00 00                // 16: ITT 0
      00 00 00 00                // 20: reserved
      00 00 00 01                // 24: StatSN 1
      00 00 00 02                // 28: ExpCmdSN 2
      00 00 00 21                // 32: MaxCmdSN 33
      00 00                      // 36: Status-Class 0, Status-Detail 0
      00 00 00 00 00 00 00 00 00 00 // 38-47: reserved
      4d 61 78 3d 31 00 00 00    // data "Max=1\0" ... 8 bytes, no padding
    `,
    pdu: {
      opcode: 0x23,
      transit: true,
      continue: false,
      csg: 1,
      nsg: 3,
      versionMax: 0,
      versionActive: 0,
      isid: hex`80 12 34 56 00 01`,
      tsih: 42,
      itt: 0,
      statSN: 1,
      expCmdSN: 2,
      maxCmdSN: 33,
      statusClass: 0,
      statusDetail: 0,
      data: hex`4d 61 78 3d 31 00 00 00`,
    },
  },
  {
    title: 'authentication failure (0x0201)',
    bytes: hex`
      23 40 00 00                // 0: opcode 0x23; 1: T=0 C=1 CSG=0 NSG=0
      00 00 00 00                // 4: no AHS, no data
      00 02 3d 00 00 07 00 00    // 8: ISID 00 02 3d 00 00 07 (OUI type); 14: TSIH 0
      00 00 00 03 00 00 00 00    // 16: ITT 3; 20: reserved
      00 00 00 00 00 00 00 01 00 00 00 01 // 24: StatSN 0; ExpCmdSN 1; MaxCmdSN 1
      02 01                      // 36: Status-Class 2 (initiator error), Status-Detail 1 (authentication failure)
      00 00 00 00 00 00 00 00 00 00 // 38-47: reserved
    `,
    pdu: {
      opcode: 0x23,
      transit: false,
      continue: true,
      csg: 0,
      nsg: 0,
      versionMax: 0,
      versionActive: 0,
      isid: hex`00 02 3d 00 00 07`,
      tsih: 0,
      itt: 3,
      statSN: 0,
      expCmdSN: 1,
      maxCmdSN: 1,
      statusClass: 2,
      statusDetail: 1,
      data: Buffer.alloc(0),
    },
  },
])
