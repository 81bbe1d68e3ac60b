// The field page of a collection agent (/m/): the day's follow-ups and what the agent records,
// kept on the phone so that it works where the network does not.
//
// - The agent's list (GET /api/field/today) is read whenever the phone is online and kept in
//   IndexedDB; the page is drawn from IndexedDB, so it opens offline as it was last read. A list
//   is kept until the end of the day it was read on, then deleted.
// - What the agent records is an entry with an ID made here (crypto.randomUUID): it waits in
//   IndexedDB and is sent (POST /api/field/entries) when the phone is online: on load, on the
//   'online' event, after each entry, every 30 seconds while some wait, and by the Gửi button.
//   A resend of the same entry answers as the first receipt did ("again"), so sending twice
//   never records twice. The server's answer is kept on the entry: recorded, or refused with
//   its words.
// - Signing out deletes everything the phone holds (IndexedDB, the service worker's cache and
//   the service worker itself), then ends the session (POST /logout).
//
// Personal data (names, phones, citizen IDs) is only ever in this origin's IndexedDB and the
// page; the service worker caches the shell, never an /api/ answer.

const DB_NAME = 'drives-field';
const DB_VERSION = 1;
const LANG_KEY = 'drives-field-lang';
const CHUNK = 50; // entries per POST (the API takes at most 100 and 256 KiB)
const RETRY_MS = 30000;
const ZONE = 'Asia/Ho_Chi_Minh'; // where the campaigns run: campaign days are this zone's days

// ---- words -----------------------------------------------------------------------------

const WORDS = {
  vi: {
    brand: 'Vận động BHXH tự nguyện',
    online: 'Trực tuyến',
    offline: 'Ngoại tuyến',
    send: 'Gửi',
    otherLang: 'EN',
    signOut: 'Đăng xuất',
    quota: 'Chỉ tiêu',
    enrolled: 'Đã vận động',
    addWalkIn: '+ Đăng ký người gặp tại chỗ',
    addLead: '+ Ghi người cần vận động',
    citizenId: 'Số CCCD',
    fullName: 'Họ và tên',
    phone: 'Số điện thoại',
    village: 'Thôn, tổ dân phố',
    group: 'Nhóm đối tượng',
    income: 'Thu nhập tháng làm căn cứ đóng (đồng)',
    subsidyClass: 'Đối tượng được hỗ trợ',
    paymentMode: 'Phương thức đóng',
    save: 'Lưu',
    cancel: 'Hủy',
    today: 'Việc hôm nay',
    recorded: 'Đã ghi trên máy',
    waiting: (n) => `${n} đang chờ gửi`,
    nothingWaiting: 'Đã gửi hết',
    fetched: (at) => `Danh sách cập nhật lúc ${at}`,
    listEmpty: 'Không còn ai cần vận động hôm nay.',
    noList: 'Chưa có danh sách trên máy: hãy kết nối mạng để tải.',
    listExpired: 'Danh sách của ngày trước đã được xóa: hãy kết nối mạng để tải danh sách hôm nay.',
    signInAgain: 'Phiên đăng nhập đã hết. Hãy đăng nhập lại (các mục chưa gửi vẫn được giữ).',
    signInLink: 'Đăng nhập',
    changePassword: 'Hãy đổi mật khẩu trước khi dùng trang này.',
    changePasswordLink: 'Đổi mật khẩu',
    cannotReach: 'Chưa kết nối được máy chủ; các mục vẫn được giữ trên máy và sẽ gửi sau.',
    serverSaid: (s) => `Máy chủ trả lời: ${s}`,
    notAgent: 'Tài khoản này không phải của một đại lý thu trong đợt vận động.',
    campaignLine: (c) => `${c.name} · ngày ${fmtDate(c.today)}`,
    lastDecision: (d, st, p) => `Đánh giá gần nhất${p ? ` (kỳ ${p})` : ''}: ${d}${st ? ` — ${st}` : ''}`,
    noDecision: 'Chưa có kết quả đánh giá.',
    overdue: 'Quá hạn',
    dueToday: 'Đến hạn hôm nay',
    dueOn: (d) => `Hạn ${d}`,
    escalated: 'Đã báo cấp trên',
    from: 'Từ',
    likelihood: (p) => `khả năng ${p}%`,
    renewal: (d) => `Đến hạn đóng tiếp ${d}`,
    renewalNote: 'Đóng tiếp được ghi từ chứng từ thu, không ghi trên điện thoại',
    call: 'Gọi',
    actEnrol: 'Tham gia',
    actDecline: 'Từ chối',
    actUnreachable: 'Không liên lạc được',
    stateWaiting: 'Chờ gửi',
    stateRecorded: 'Đã ghi nhận',
    stateAgain: 'Đã ghi nhận (gửi lại)',
    stateRefused: 'Bị từ chối',
    titleEnrol: 'Đăng ký tham gia',
    titleWalkIn: 'Đăng ký người gặp tại chỗ',
    titleLead: 'Ghi người cần vận động',
    titleDeclined: 'Người này từ chối',
    titleUnreachable: 'Không liên lạc được',
    reasonDeclined: 'Lý do (không bắt buộc)',
    reasonUnreachable: 'Lý do (bắt buộc)',
    kindEnrolment: 'Đăng ký tham gia',
    kindWalkIn: 'Đăng ký tại chỗ',
    kindLead: 'Người cần vận động',
    kindDeclined: 'Từ chối',
    kindUnreachable: 'Không liên lạc được',
    dismiss: 'Xóa khỏi máy',
    choose: '— chọn —',
    incomeRange: (a, b) => `Từ ${fmtNum(a)} đến ${fmtNum(b)} đồng`,
    errCitizenId: 'Số CCCD gồm 12 chữ số (hoặc 9 số của CMND cũ).',
    errFullName: 'Hãy nhập họ và tên.',
    errPhone: 'Số điện thoại gồm 10 chữ số, bắt đầu bằng 0.',
    errVillage: 'Hãy chọn thôn, tổ dân phố.',
    errGroup: 'Hãy chọn nhóm đối tượng.',
    errIncome: (a, b) => `Thu nhập phải là số đồng từ ${fmtNum(a)} đến ${fmtNum(b)}.`,
    errSubsidy: 'Hãy chọn đối tượng được hỗ trợ.',
    errPayment: 'Hãy chọn phương thức đóng.',
    errReason: 'Hãy ghi lý do (tối đa 200 ký tự).',
    errNoList: 'Chưa có danh sách của đợt vận động trên máy: hãy kết nối mạng một lần trước.',
    confirmSignOut: (n) => `Còn ${n} mục chưa gửi sẽ bị xóa khỏi máy. Bấm Đăng xuất lần nữa để xác nhận.`,
    signedOutOffline: 'Đã xóa dữ liệu trên máy. Không có mạng để kết thúc phiên trên máy chủ.',
    otherAgent: (a) => `Mục này của đại lý ${a}: chỉ được gửi khi ${a} đăng nhập.`,
    subsidy: { poor: 'Hộ nghèo (hỗ trợ 30%)', near_poor: 'Hộ cận nghèo (hỗ trợ 25%)', other: 'Đối tượng khác (hỗ trợ 10%)' },
    payment: { monthly: 'Hằng tháng', '1m': 'Hằng tháng', '3m': '3 tháng một lần', '6m': '6 tháng một lần', '12m': '12 tháng một lần',
      '2y': 'Đóng trước 2 năm', '3y': 'Đóng trước 3 năm', '4y': 'Đóng trước 4 năm', '5y': 'Đóng trước 5 năm' },
    decision: { reward: 'khen thưởng', commend: 'biểu dương', retain: 'giữ nguyên', warn: 'nhắc nhở', terminate: 'đề nghị thanh lý' },
    decisionStatus: { final: 'chính thức', pending: 'chờ quyết định', approved: 'đã phê duyệt', rejected: 'đã từ chối',
      escalated: 'chuyển cấp trên', auto_terminated: 'tự động thanh lý' },
  },
  en: {
    brand: 'Voluntary social insurance drive',
    online: 'Online',
    offline: 'Offline',
    send: 'Send',
    otherLang: 'VI',
    signOut: 'Sign out',
    quota: 'Quota',
    enrolled: 'Enrolled',
    addWalkIn: '+ Enrol someone met here',
    addLead: '+ Add a lead',
    citizenId: 'Citizen ID',
    fullName: 'Full name',
    phone: 'Phone',
    village: 'Village',
    group: 'Target group',
    income: 'Monthly income declared (VND)',
    subsidyClass: 'Subsidy class',
    paymentMode: 'Payment mode',
    save: 'Save',
    cancel: 'Cancel',
    today: 'Today',
    recorded: 'Recorded on this phone',
    waiting: (n) => `${n} waiting to send`,
    nothingWaiting: 'All sent',
    fetched: (at) => `List read at ${at}`,
    listEmpty: 'Nobody left to follow up today.',
    noList: 'No list on this phone yet: connect to the network to read it.',
    listExpired: "An earlier day's list was deleted: connect to the network to read today's.",
    signInAgain: 'Your session has ended. Sign in again (entries not sent are kept).',
    signInLink: 'Sign in',
    changePassword: 'Choose a new password before using this page.',
    changePasswordLink: 'Change password',
    cannotReach: 'The server could not be reached; entries stay on this phone and are sent later.',
    serverSaid: (s) => `The server said: ${s}`,
    notAgent: "This account is not a collection agent's of the campaign.",
    campaignLine: (c) => `${c.name} · ${fmtDate(c.today)}`,
    lastDecision: (d, st, p) => `Last review${p ? ` (${p})` : ''}: ${d}${st ? ` — ${st}` : ''}`,
    noDecision: 'No review yet.',
    overdue: 'Overdue',
    dueToday: 'Due today',
    dueOn: (d) => `Due ${d}`,
    escalated: 'Escalated',
    from: 'From',
    likelihood: (p) => `likelihood ${p}%`,
    renewal: (d) => `Payment due ${d}`,
    renewalNote: 'Payments are recorded from the collection records, not on the phone',
    call: 'Call',
    actEnrol: 'Enrolled',
    actDecline: 'Declined',
    actUnreachable: 'Unreachable',
    stateWaiting: 'Waiting to send',
    stateRecorded: 'Recorded',
    stateAgain: 'Recorded (sent again)',
    stateRefused: 'Refused',
    titleEnrol: 'Enrolment',
    titleWalkIn: 'Enrol someone met here',
    titleLead: 'Add a lead',
    titleDeclined: 'Declined',
    titleUnreachable: 'Unreachable',
    reasonDeclined: 'Reason (optional)',
    reasonUnreachable: 'Reason (required)',
    kindEnrolment: 'Enrolment',
    kindWalkIn: 'Walk-in enrolment',
    kindLead: 'Lead',
    kindDeclined: 'Declined',
    kindUnreachable: 'Unreachable',
    dismiss: 'Remove from phone',
    choose: '— choose —',
    incomeRange: (a, b) => `From ${fmtNum(a)} to ${fmtNum(b)} VND`,
    errCitizenId: 'A citizen ID is 12 digits (or 9 of an old identity card).',
    errFullName: 'Enter the full name.',
    errPhone: 'A phone number is 10 digits starting with 0.',
    errVillage: 'Choose the village.',
    errGroup: 'Choose the target group.',
    errIncome: (a, b) => `The income is a whole number of VND from ${fmtNum(a)} to ${fmtNum(b)}.`,
    errSubsidy: 'Choose the subsidy class.',
    errPayment: 'Choose the payment mode.',
    errReason: 'Say why (at most 200 characters).',
    errNoList: "No campaign list on this phone yet: connect once first.",
    confirmSignOut: (n) => `${n} entries not sent will be deleted from this phone. Tap Sign out again to confirm.`,
    signedOutOffline: 'This phone holds nothing now. There was no network to end the session on the server.',
    otherAgent: (a) => `Agent ${a}'s entry: it is sent when ${a} signs in.`,
    subsidy: { poor: 'Poor household (30% support)', near_poor: 'Near-poor household (25%)', other: 'Other (10%)' },
    payment: { monthly: 'Monthly', '1m': 'Monthly', '3m': 'Every 3 months', '6m': 'Every 6 months', '12m': 'Every 12 months',
      '2y': '2 years in advance', '3y': '3 years in advance', '4y': '4 years in advance', '5y': '5 years in advance' },
    decision: { reward: 'reward', commend: 'commend', retain: 'retain', warn: 'warn', terminate: 'terminate' },
    decisionStatus: { final: 'final', pending: 'pending', approved: 'approved', rejected: 'rejected', escalated: 'escalated',
      auto_terminated: 'terminated automatically' },
  },
};

let lang = 'vi';
try {
  if (localStorage.getItem(LANG_KEY) === 'en') lang = 'en';
} catch { /* storage may be off: Vietnamese */ }

const t = (key, ...args) => {
  const w = WORDS[lang][key] ?? WORDS.vi[key] ?? key;
  return typeof w === 'function' ? w(...args) : w;
};

function fmtNum(n) {
  return new Intl.NumberFormat(lang === 'vi' ? 'vi-VN' : 'en-GB').format(Number(n) || 0);
}

// fmtDate shows a date (YYYY-MM-DD, or the date part of a time) as the page's language does.
function fmtDate(s) {
  if (!s) return '';
  const [y, m, d] = String(s).slice(0, 10).split('-');
  return lang === 'vi' ? `${d}/${m}/${y}` : `${d}/${m}/${y}`;
}

// dayIn is the date (YYYY-MM-DD) of an instant (a time, or a date: its UTC midnight) in the
// campaign's zone.
function dayIn(instant) {
  const zone = (state.list && state.list.data.campaign && state.list.data.campaign.timezone) || ZONE;
  return new Intl.DateTimeFormat('en-CA', { timeZone: zone, year: 'numeric', month: '2-digit', day: '2-digit' })
    .format(new Date(instant));
}

// ---- IndexedDB ---------------------------------------------------------------------------
// Stores: meta (key → value: the list as read, the session's CSRF token), entries (by ID).

let dbPromise = null;

function openDB() {
  if (!dbPromise) {
    dbPromise = new Promise((resolve, reject) => {
      const r = indexedDB.open(DB_NAME, DB_VERSION);
      r.onupgradeneeded = () => {
        const db = r.result;
        if (!db.objectStoreNames.contains('meta')) db.createObjectStore('meta', { keyPath: 'key' });
        if (!db.objectStoreNames.contains('entries')) db.createObjectStore('entries', { keyPath: 'id' });
      };
      r.onsuccess = () => {
        const db = r.result;
        // Another tab signing out deletes the database: let it.
        db.onversionchange = () => {
          db.close();
          dbPromise = null;
        };
        resolve(db);
      };
      r.onerror = () => reject(r.error);
    });
  }
  return dbPromise;
}

function done(tx) {
  return new Promise((resolve, reject) => {
    tx.oncomplete = () => resolve();
    tx.onerror = () => reject(tx.error);
    tx.onabort = () => reject(tx.error || new Error('transaction aborted'));
  });
}

async function idbGet(store, key) {
  const db = await openDB();
  const tx = db.transaction(store, 'readonly');
  const r = tx.objectStore(store).get(key);
  await done(tx);
  return r.result;
}

async function idbAll(store) {
  const db = await openDB();
  const tx = db.transaction(store, 'readonly');
  const r = tx.objectStore(store).getAll();
  await done(tx);
  return r.result || [];
}

async function idbPut(store, ...values) {
  const db = await openDB();
  const tx = db.transaction(store, 'readwrite');
  for (const v of values) tx.objectStore(store).put(v);
  await done(tx);
}

async function idbDelete(store, ...keys) {
  const db = await openDB();
  const tx = db.transaction(store, 'readwrite');
  for (const k of keys) tx.objectStore(store).delete(k);
  await done(tx);
}

// ---- state ---------------------------------------------------------------------------------

const state = {
  list: null, // { key: 'today', data, fetchedAt, expires }
  entries: [], // { id, campaign, state: waiting|recorded|refused, body, label, followUp, createdAt, result }
  notice: null, // { text, link, href }
  expired: false,
  form: null, // the form open: { kind, followUp, outcome }
  confirmSignOut: false,
};

const $ = (id) => document.querySelector(`[data-testid="${id}"]`);

function el(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'text') e.textContent = v;
    else if (k === 'testid') e.dataset.testid = v;
    else if (k === 'class') e.className = v;
    else if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
    else e.setAttribute(k, v === true ? '' : v);
  }
  for (const c of children) if (c !== null && c !== undefined && c !== false) e.append(c);
  return e;
}

const waiting = () => state.entries.filter((e) => e.state === 'waiting');

// mine: an entry of the agent signed in (another agent's, left on a shared phone that was not
// signed out of, waits for them).
const mine = (e) => !state.list || !e.agent || e.agent === state.list.data.agent.code;

// endOfDay is the end of the local day of an instant: a list read then is kept until it.
function endOfDay(ms) {
  const d = new Date(ms);
  d.setHours(24, 0, 0, 0);
  return d.getTime();
}

async function load() {
  state.list = (await idbGet('meta', 'today')) || null;
  if (state.list && Date.now() >= state.list.expires) {
    // The list of an earlier day: personal data the phone keeps no longer.
    await idbDelete('meta', 'today');
    state.list = null;
    state.expired = true;
  }
  state.entries = (await idbAll('entries')).sort((a, b) => a.createdAt - b.createdAt);
}

// ---- network -----------------------------------------------------------------------------

const JSON_HEADERS = { Accept: 'application/json' };

async function answerError(r) {
  try {
    const body = await r.json();
    if (body && body.error) return body.error;
  } catch { /* not JSON */ }
  return `HTTP ${r.status}`;
}

// refresh reads the agent's list; it answers whether it did.
async function refresh() {
  if (!navigator.onLine) return false;
  let r;
  try {
    r = await fetch('/api/field/today', { credentials: 'same-origin', headers: JSON_HEADERS, cache: 'no-store' });
  } catch {
    setNotice({ text: t('cannotReach') });
    return false;
  }
  if (!(await accessProblem(r))) return false;
  if (!r.ok) {
    setNotice({ text: r.status === 404 ? t('notAgent') : t('serverSaid', await answerError(r)) });
    return false;
  }
  const data = await r.json();
  const now = Date.now();
  const list = { key: 'today', data, fetchedAt: now, expires: endOfDay(now) };
  await idbPut('meta', list, { key: 'session', csrf: data.csrf, campaign: data.campaign && data.campaign.id,
    agent: data.agent && data.agent.code });
  state.list = list;
  state.expired = false;
  // Answered entries are kept for the day they were recorded on, to show what became of them.
  const old = state.entries.filter((e) => e.state !== 'waiting' && e.createdAt < endOfDay(now) - 864e5);
  if (old.length) {
    await idbDelete('entries', ...old.map((e) => e.id));
    state.entries = state.entries.filter((e) => !old.includes(e));
  }
  clearNotice();
  render();
  return true;
}

// accessProblem says, for 401 and 403, what the agent must do; it answers false for them.
async function accessProblem(r) {
  if (r.status === 401) {
    setNotice({ text: t('signInAgain'), link: t('signInLink'), href: '/login?next=/m/' });
    return false;
  }
  if (r.status === 403) {
    const why = await answerError(r);
    if (/password/i.test(why)) {
      setNotice({ text: t('changePassword'), link: t('changePasswordLink'), href: '/password' });
    } else {
      setNotice({ text: t('serverSaid', why) });
    }
    return false;
  }
  return true;
}

let syncing = null;
let retryTimer = null;
let retryAfterMs = 0; // the server's Retry-After (busy), for the next try

// sync sends the waiting entries, at most one send at a time; it answers whether any was
// answered.
function sync() {
  if (!syncing) {
    syncing = sendWaiting().finally(() => {
      syncing = null;
      scheduleRetry();
    });
  }
  return syncing;
}

// scheduleRetry tries again later while entries wait: after the server's Retry-After when it
// was busy, else every RETRY_MS; spread at random so that phones do not come back together.
function scheduleRetry() {
  clearTimeout(retryTimer);
  if (!waiting().length) return;
  const base = retryAfterMs || RETRY_MS;
  retryAfterMs = 0;
  retryTimer = setTimeout(() => { if (navigator.onLine) sync(); }, base + Math.random() * base);
}

async function postEntries(csrf, campaign, batch) {
  return fetch('/api/field/entries', {
    method: 'POST',
    credentials: 'same-origin',
    cache: 'no-store',
    headers: { ...JSON_HEADERS, 'Content-Type': 'application/json', 'X-CSRF-Token': csrf || '' },
    body: JSON.stringify({ campaign, entries: batch.map((e) => e.body) }),
  });
}

async function sendWaiting() {
  if (!navigator.onLine || !waiting().length) return false;
  let session = await idbGet('meta', 'session');
  if (!session || !session.csrf) {
    if (!(await refresh())) return false;
    session = await idbGet('meta', 'session');
  }
  const byCampaign = new Map();
  for (const e of waiting().filter((x) => x.agent === session.agent)) {
    if (!byCampaign.has(e.campaign)) byCampaign.set(e.campaign, []);
    byCampaign.get(e.campaign).push(e);
  }
  let answered = false;
  for (const [campaign, list] of byCampaign) {
    for (let i = 0; i < list.length; i += CHUNK) {
      const batch = list.slice(i, i + CHUNK);
      let r;
      try {
        r = await postEntries(session.csrf, campaign, batch);
        if (r.status === 403) {
          // The CSRF token may be an earlier session's: read the list (and a fresh token) once.
          if (await refresh()) {
            session = await idbGet('meta', 'session');
            r = await postEntries(session.csrf, campaign, batch);
          }
        }
      } catch {
        setNotice({ text: t('cannotReach') });
        return answered;
      }
      if (!(await accessProblem(r))) return answered;
      if (r.status === 503 || r.status === 429) {
        const after = Number(r.headers.get('Retry-After'));
        retryAfterMs = (Number.isFinite(after) && after > 0 ? after : 5) * 1000;
        setNotice({ text: t('serverSaid', await answerError(r)) });
        return answered;
      }
      if (!r.ok) {
        setNotice({ text: t('serverSaid', await answerError(r)) });
        return answered;
      }
      const { results = [] } = await r.json();
      const byID = new Map(results.map((x) => [x.id, x]));
      const changed = [];
      for (const e of batch) {
        const res = byID.get(e.id);
        if (!res) continue;
        if (res.later) {
          // Refused for now (the campaign is paused): it waits, and is sent again later.
          e.note = res.error || '';
          changed.push(e);
          continue;
        }
        e.note = '';
        e.state = res.status === 'recorded' ? 'recorded' : 'refused';
        e.result = { status: res.status, again: !!res.again, field: res.field || '', error: res.error || '' };
        e.sentAt = Date.now();
        changed.push(e);
      }
      await idbPut('entries', ...changed);
      answered = answered || changed.length > 0;
      render();
    }
  }
  if (answered) {
    clearNotice();
    await refresh(); // the closed follow-ups leave the list, the enrolled count moves
  }
  return answered;
}

// ---- recording ---------------------------------------------------------------------------

// entryDay is the day (campaign time) an entry happened on: today's date here when it falls in
// the campaign and is not before the day of the list, else the list's day.
function entryDay() {
  const c = state.list.data.campaign;
  const here = dayIn(Date.now());
  if (c.period_start && c.period_end && here >= dayIn(c.period_start) && here <= dayIn(c.period_end) && here > c.today) {
    return here;
  }
  return c.today;
}

async function record(body, label, followUp) {
  const campaign = state.list.data.campaign.id;
  const entry = {
    id: body.id,
    campaign,
    agent: state.list.data.agent.code,
    state: 'waiting',
    body,
    label,
    followUp: followUp || null,
    createdAt: Date.now(),
    result: null,
  };
  await idbPut('entries', entry);
  state.entries.push(entry);
  render();
  if (navigator.onLine) sync();
  else scheduleRetry();
}

// ---- the form ----------------------------------------------------------------------------

const FORM_KINDS = {
  enrol: { title: 'titleEnrol', person: false, enrol: true, outcome: false },
  walkIn: { title: 'titleWalkIn', person: true, enrol: true, outcome: false },
  lead: { title: 'titleLead', person: true, enrol: false, outcome: false },
  declined: { title: 'titleDeclined', person: false, enrol: false, outcome: true },
  unreachable: { title: 'titleUnreachable', person: false, enrol: false, outcome: true },
};

function choiceOf(c) {
  if (c && typeof c === 'object') return { code: String(c.code ?? c.id ?? ''), name: String(c.name ?? c.code ?? '') };
  return { code: String(c), name: String(c) };
}

function fillSelect(sel, items, nameOf) {
  sel.replaceChildren(el('option', { value: '', text: t('choose') }));
  for (const raw of items || []) {
    const c = choiceOf(raw);
    sel.append(el('option', { value: c.code, text: nameOf ? nameOf(c) : c.name }));
  }
}

function openForm(kind, followUp) {
  if (!state.list) {
    setNotice({ text: t('errNoList') });
    return;
  }
  state.form = { kind, followUp };
  const spec = FORM_KINDS[kind];
  const ch = state.list.data.choices || {};
  const form = $('entry-form');
  form.reset();
  fillSelect(form.elements.village, ch.villages);
  fillSelect(form.elements.group, ch.groups);
  fillSelect(form.elements.subsidy_class, ch.subsidy_classes, (c) => WORDS[lang].subsidy[c.code] || c.name);
  fillSelect(form.elements.payment_mode, ch.payment_modes, (c) => WORDS[lang].payment[c.code] || c.name);
  if ((ch.villages || []).length === 1) form.elements.village.selectedIndex = 1;
  form.querySelector('.person').hidden = !spec.person;
  form.querySelector('.enrol').hidden = !spec.enrol;
  form.querySelector('.outcome').hidden = !spec.outcome;
  $('income-range').textContent = ch.income_min ? t('incomeRange', ch.income_min, ch.income_max) : '';
  $('reason-label').textContent = kind === 'unreachable' ? t('reasonUnreachable') : t('reasonDeclined');
  $('form-title').textContent = t(spec.title);
  $('form-who').textContent = followUp ? `${followUp.name} · ${followUp.phone}` : '';
  $('form-error').hidden = true;
  $('form-view').hidden = false;
  $('list-view').hidden = true;
  document.querySelector('.actions-new').hidden = true;
  $('entries-view').hidden = true;
  window.scrollTo(0, 0);
  const first = form.querySelector('fieldset:not([hidden]) input, .fields:not([hidden]) input, .fields:not([hidden]) textarea');
  if (first) first.focus();
}

function closeForm() {
  state.form = null;
  $('form-view').hidden = true;
  $('list-view').hidden = false;
  document.querySelector('.actions-new').hidden = false;
  render();
}

// readForm checks what the form says as the import would, in short, and answers the entry or
// the first problem.
function readForm() {
  const { kind, followUp } = state.form;
  const spec = FORM_KINDS[kind];
  const f = $('entry-form').elements;
  const ch = state.list.data.choices || {};
  const val = (name) => f[name].value.trim();
  const body = { id: crypto.randomUUID() };
  if (spec.person) {
    const cid = val('citizen_id');
    if (!/^([0-9]{9}|[0-9]{12})$/.test(cid)) return { error: t('errCitizenId'), field: 'citizen_id' };
    const name = val('full_name');
    if (!name || name.length > 100) return { error: t('errFullName'), field: 'full_name' };
    const phone = val('phone').replace(/[\s.-]/g, '');
    if (!/^0[0-9]{9}$/.test(phone)) return { error: t('errPhone'), field: 'phone' };
    if (!val('village') && (ch.villages || []).length) return { error: t('errVillage'), field: 'village' };
    if (!val('group')) return { error: t('errGroup'), field: 'group' };
    Object.assign(body, { citizen_id: cid, full_name: name, phone, village: val('village'), group: val('group') });
  }
  if (spec.enrol) {
    const min = Number(ch.income_min) || 0;
    const max = Number(ch.income_max) || Number.MAX_SAFE_INTEGER;
    const digits = val('monthly_income').replace(/[\s.,_]/g, '');
    const income = /^[0-9]+$/.test(digits) ? Number(digits) : NaN;
    if (!(income >= min && income <= max)) return { error: t('errIncome', min, max), field: 'monthly_income' };
    if (!val('subsidy_class')) return { error: t('errSubsidy'), field: 'subsidy_class' };
    if (!val('payment_mode')) return { error: t('errPayment'), field: 'payment_mode' };
    Object.assign(body, { monthly_income: income, subsidy_class: val('subsidy_class'), payment_mode: val('payment_mode') });
  }
  if (spec.outcome) {
    const reason = val('reason');
    if ((kind === 'unreachable' && !reason) || reason.length > 200) return { error: t('errReason'), field: 'reason' };
    Object.assign(body, { outcome: kind, reason });
  }
  let entryKind = 'enrolment';
  if (kind === 'lead') entryKind = 'lead';
  else if (spec.outcome) entryKind = 'outcome';
  // The API's field order: id, kind, follow_up, then the rest.
  const out = { id: body.id, kind: entryKind };
  if (followUp) out.follow_up = followUp.id;
  delete body.id;
  Object.assign(out, body, { on: entryDay() });
  const labelKind = { enrol: 'kindEnrolment', walkIn: 'kindWalkIn', lead: 'kindLead', declined: 'kindDeclined',
    unreachable: 'kindUnreachable' }[kind];
  return { body: out, label: { kind: labelKind, name: followUp ? followUp.name : out.full_name } };
}

async function submitForm(ev) {
  ev.preventDefault();
  const got = readForm();
  if (got.error) {
    const e = $('form-error');
    e.textContent = got.error;
    e.hidden = false;
    const input = $('entry-form').elements[got.field];
    if (input) input.focus();
    return;
  }
  const followUp = state.form.followUp;
  closeForm();
  await record(got.body, got.label, followUp ? followUp.id : null);
}

// ---- drawing -----------------------------------------------------------------------------

function setNotice(n) {
  state.notice = n;
  renderNotice();
}

function clearNotice() {
  state.notice = null;
  renderNotice();
}

function renderNotice() {
  const p = $('notice');
  const n = state.notice;
  p.hidden = !n;
  p.replaceChildren();
  if (!n) return;
  p.append(n.text);
  if (n.href) p.append(' ', el('a', { href: n.href, text: n.link, testid: 'notice-link' }));
}

function renderStatic() {
  document.documentElement.lang = lang;
  for (const e of document.querySelectorAll('[data-i18n]')) e.textContent = t(e.dataset.i18n);
  document.title = t('brand');
}

function renderBar() {
  const online = navigator.onLine;
  const net = $('net-state');
  net.dataset.value = online ? 'online' : 'offline';
  net.textContent = online ? t('online') : t('offline');
  net.classList.toggle('off', !online);
  const n = waiting().length;
  const q = $('queue-count');
  q.dataset.value = String(n);
  q.textContent = n ? t('waiting', n) : t('nothingWaiting');
  q.classList.toggle('pending', n > 0);
  $('send').disabled = n === 0 || !online;
  const c = $('sign-out-confirm');
  c.hidden = !state.confirmSignOut;
  c.textContent = state.confirmSignOut ? t('confirmSignOut', n) : '';
}

function renderAgent() {
  const sec = $('agent');
  if (!state.list) {
    sec.hidden = true;
    return;
  }
  const { agent = {}, campaign = {} } = state.list.data;
  sec.hidden = false;
  $('agent-code').textContent = agent.code || '';
  $('commune').textContent = agent.commune_name || agent.commune || '';
  $('campaign').textContent = campaign.name ? t('campaignLine', campaign) : '';
  const quota = $('quota');
  quota.dataset.value = String(agent.quota ?? '');
  quota.textContent = fmtNum(agent.quota);
  const enrolled = $('enrolled');
  enrolled.dataset.value = String(agent.enrolled ?? '');
  enrolled.textContent = fmtNum(agent.enrolled);
  const d = $('last-decision');
  d.dataset.value = agent.last_decision || '';
  d.textContent = agent.last_decision
    ? t('lastDecision', WORDS[lang].decision[agent.last_decision] || agent.last_decision,
      WORDS[lang].decisionStatus[agent.last_decision_status] || agent.last_decision_status || '', agent.last_decision_period || '')
    : t('noDecision');
  const at = new Date(state.list.fetchedAt);
  $('fetched').textContent = t('fetched', at.toLocaleTimeString(lang === 'vi' ? 'vi-VN' : 'en-GB',
    { hour: '2-digit', minute: '2-digit' }));
}

function entryStateText(e) {
  if (e.state === 'waiting') return t('stateWaiting');
  if (e.state === 'recorded') return e.result && e.result.again ? t('stateAgain') : t('stateRecorded');
  return t('stateRefused');
}

function entryState(e) {
  const s = el('p', { class: `entry-state ${e.state}`, testid: 'entry-state', 'data-value': e.state, text: entryStateText(e) });
  const wrap = [s];
  if (e.state === 'waiting' && !mine(e)) wrap.push(el('p', { class: 'later', testid: 'other-agent', text: t('otherAgent', e.agent) }));
  if (e.state === 'waiting' && e.note) wrap.push(el('p', { class: 'later', testid: 'later', text: e.note }));
  if (e.state === 'refused' && e.result) {
    wrap.push(el('p', { class: 'refusal', testid: 'refused', 'data-field': e.result.field || '', text: e.result.error || '' }));
  }
  return wrap;
}

function renderList() {
  const ol = $('follow-ups');
  const empty = $('list-empty');
  ol.replaceChildren();
  if (!state.list) {
    empty.hidden = false;
    empty.textContent = state.expired ? t('listExpired') : t('noList');
    return;
  }
  const fus = state.list.data.follow_ups || [];
  empty.hidden = fus.length > 0;
  empty.textContent = t('listEmpty');
  // The latest entry about each follow-up.
  const about = new Map();
  for (const e of state.entries) if (e.followUp) about.set(e.followUp, e);
  const today = state.list.data.campaign.today;
  for (const f of fus) {
    const entry = about.get(f.id);
    const dueDay = dayIn(f.due_at);
    let due = null;
    if (dueDay < today) due = el('span', { class: 'badge bad', testid: 'due', 'data-value': 'overdue', text: t('overdue') });
    else if (dueDay === today) due = el('span', { class: 'badge warn', testid: 'due', 'data-value': 'due', text: t('dueToday') });
    else due = el('span', { class: 'badge', testid: 'due', 'data-value': 'later', text: t('dueOn', fmtDate(dueDay)) });
    const info = [];
    const renewal = f.kind === 'renewal';
    if (f.village_name || f.village) info.push(f.village_name || f.village);
    if (renewal) info.push(f.group_name || f.group);
    else info.push(`${f.group_name || f.group} (${t('likelihood', Math.round((f.likelihood || 0) * 100))})`);
    const busy = entry && entry.state !== 'refused';
    const li = el('li', { class: `follow-up${busy ? ' done' : ''}`, testid: 'follow-up', 'data-id': String(f.id), 'data-kind': f.kind || 'lead' },
      el('div', { class: 'fu-head' },
        el('strong', { class: 'fu-name', testid: 'name', text: f.name }),
        due,
        f.escalated ? el('span', { class: 'badge bad', testid: 'escalated', text: t('escalated') }) : null),
      el('a', { class: 'phone', href: `tel:${f.phone}`, testid: 'phone', 'aria-label': `${t('call')} ${f.phone}` },
        el('span', { class: 'call', text: t('call') }), ` ${f.phone}`),
      el('p', { class: 'fu-info', testid: 'village', text: info.join(' · ') }),
      f.event_title || f.event
        ? el('p', { class: 'fu-info muted', testid: 'event', 'data-value': f.event || '', text: `${t('from')}: ${f.event_title || f.event}` })
        : null,
      renewal ? el('p', { class: 'fu-info', testid: 'renewal', 'data-value': f.renewal_due, text: t('renewal', fmtDate(f.renewal_due)) }) : null,
      renewal ? el('p', { class: 'fu-info muted', text: t('renewalNote') }) : null,
      ...(entry ? entryState(entry) : []),
      busy || renewal ? null : el('div', { class: 'fu-actions' },
        el('button', { type: 'button', class: 'btn', testid: 'enrol', text: t('actEnrol'), onclick: () => openForm('enrol', f) }),
        el('button', { type: 'button', class: 'btn ghost', testid: 'decline', text: t('actDecline'), onclick: () => openForm('declined', f) }),
        el('button', { type: 'button', class: 'btn ghost', testid: 'unreachable', text: t('actUnreachable'),
          onclick: () => openForm('unreachable', f) })));
    ol.append(li);
  }
}

function renderEntries() {
  const sec = $('entries-view');
  const ol = $('entries');
  ol.replaceChildren();
  sec.hidden = state.entries.length === 0 || !!state.form;
  for (const e of [...state.entries].reverse()) {
    const b = e.body;
    const li = el('li', {
      class: `entry ${e.state}`, testid: 'entry', 'data-id': e.id, 'data-kind': b.kind, 'data-status': e.state,
      'data-again': e.result ? String(!!e.result.again) : '', 'data-follow-up': e.followUp ? String(e.followUp) : '',
    },
    el('div', { class: 'fu-head' },
      el('strong', { text: t(e.label && e.label.kind) }),
      el('span', { class: 'muted', text: fmtDate(b.on) })),
    el('p', { class: 'fu-info', testid: 'entry-name', text: (e.label && e.label.name) || '' }),
    ...entryState(e),
    e.state === 'refused'
      ? el('button', { type: 'button', class: 'btn small ghost', testid: 'dismiss', text: t('dismiss'), onclick: () => dismiss(e) })
      : null);
    ol.append(li);
  }
}

function render() {
  renderStatic();
  renderBar();
  renderNotice();
  renderAgent();
  renderList();
  renderEntries();
}

async function dismiss(e) {
  await idbDelete('entries', e.id);
  state.entries = state.entries.filter((x) => x !== e);
  render();
}

// ---- signing out -------------------------------------------------------------------------

async function signOut() {
  const n = waiting().length;
  if (n > 0 && !state.confirmSignOut) {
    state.confirmSignOut = true;
    renderBar();
    return;
  }
  const session = (await idbGet('meta', 'session').catch(() => null)) || {};
  // What the phone holds goes first, whatever the network.
  try {
    const db = await openDB();
    const tx = db.transaction(['meta', 'entries'], 'readwrite');
    tx.objectStore('meta').clear();
    tx.objectStore('entries').clear();
    await done(tx);
    db.close();
  } catch { /* deleted below anyway */ }
  dbPromise = null;
  await new Promise((resolve) => {
    const r = indexedDB.deleteDatabase(DB_NAME);
    r.onsuccess = r.onerror = r.onblocked = () => resolve();
  });
  if (navigator.serviceWorker) {
    for (const reg of await navigator.serviceWorker.getRegistrations()) await reg.unregister();
  }
  await deleteCaches();
  try { localStorage.removeItem(LANG_KEY); } catch { /* nothing kept */ }
  state.list = null;
  state.entries = [];
  try {
    await fetch('/logout', {
      method: 'POST',
      credentials: 'same-origin',
      headers: { 'X-CSRF-Token': session.csrf || '', 'Content-Type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ csrf: session.csrf || '' }),
    });
  } catch {
    state.confirmSignOut = false;
    render();
    setNotice({ text: t('signedOutOffline') });
    return;
  }
  await deleteCaches(); // again: a refresh of the shell under way may have kept a copy
  location.replace('/login?next=/m/');
}

async function deleteCaches() {
  if (!self.caches) return;
  for (const k of await caches.keys()) await caches.delete(k);
}

// ---- start -------------------------------------------------------------------------------

function wire() {
  $('send').addEventListener('click', () => sync());
  $('sign-out').addEventListener('click', () => signOut());
  $('lang').addEventListener('click', () => {
    lang = lang === 'vi' ? 'en' : 'vi';
    try { localStorage.setItem(LANG_KEY, lang); } catch { /* this page only */ }
    render();
  });
  $('add-walk-in').addEventListener('click', () => openForm('walkIn'));
  $('add-lead').addEventListener('click', () => openForm('lead'));
  $('cancel').addEventListener('click', () => closeForm());
  $('entry-form').addEventListener('submit', submitForm);
  window.addEventListener('online', async () => {
    renderBar();
    await refresh();
    await sync();
  });
  window.addEventListener('offline', () => renderBar());
}

async function start() {
  wire();
  if ('serviceWorker' in navigator) {
    navigator.serviceWorker.register('/m/sw.js', { scope: '/m/' }).catch(() => { /* the page works without it online */ });
  }
  await load();
  render();
  document.body.dataset.ready = '1';
  if (navigator.onLine) {
    await refresh();
    await sync();
  }
  scheduleRetry();
  document.body.dataset.loaded = '1';
}

start();
