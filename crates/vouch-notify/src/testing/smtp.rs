use std::io;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::Engine as _;
use tokio::io::{AsyncBufReadExt, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::{JoinHandle, JoinSet};

use super::lock;

/// One message the sink accepted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReceivedMail {
    /// The envelope sender (`MAIL FROM`), without angle brackets.
    pub from: String,
    /// The envelope recipients (`RCPT TO`), in order, without angle brackets.
    pub to: Vec<String>,
    /// The message as transmitted (headers, blank line, body) with dot-stuffing undone.
    pub data: String,
    /// The `Subject` header, unfolded, with RFC 2047 encoded words decoded.
    pub subject: String,
    /// The text after the header block, transfer encoding (quoted-printable, base64) decoded,
    /// line endings as `\n`.
    pub body: String,
}

#[derive(Default)]
struct State {
    messages: Vec<ReceivedMail>,
    fail_with: Option<String>,
}

/// A minimal ESMTP server on `127.0.0.1` that keeps every message it accepts.
///
/// It speaks EHLO/HELO, MAIL, RCPT, DATA, RSET, NOOP, VRFY and QUIT, advertises neither
/// STARTTLS nor AUTH (so use a plain `smtp://` URL without credentials), and serves each
/// connection on its own task.
pub struct SmtpSink {
    addr: SocketAddr,
    state: Arc<Mutex<State>>,
    task: JoinHandle<()>,
}

impl SmtpSink {
    /// Binds an ephemeral loopback port and starts accepting connections.
    pub async fn start() -> SmtpSink {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind the SMTP sink");
        let addr = listener.local_addr().expect("SMTP sink address");
        let state = Arc::new(Mutex::new(State::default()));
        let task = tokio::spawn(accept(listener, Arc::clone(&state)));
        SmtpSink { addr, state, task }
    }

    /// `smtp://127.0.0.1:PORT`, ready for `SmtpSettings::url`.
    pub fn url(&self) -> String {
        format!("smtp://{}", self.addr)
    }

    /// Everything accepted so far, oldest first.
    pub fn messages(&self) -> Vec<ReceivedMail> {
        lock(&self.state).messages.clone()
    }

    /// With `Some(reply)`, answer the end of DATA with `reply` (e.g. `"554 5.7.1 rejected"`;
    /// a reply without a 3-digit code gets `554 ` in front) and keep nothing; `None` accepts
    /// again. The whole message is still read, so the client's side of DATA is exercised.
    pub fn fail_with(&self, reply: Option<&str>) {
        lock(&self.state).fail_with = reply.map(|reply| {
            let reply = reply.trim();
            let coded = reply.len() >= 3 && reply.as_bytes()[..3].iter().all(u8::is_ascii_digit);
            if coded {
                reply.to_owned()
            } else {
                format!("554 {reply}")
            }
        });
    }

    /// Waits until at least `n` messages arrived or `timeout` passed; returns what arrived.
    pub async fn wait_for(&self, n: usize, timeout: Duration) -> Vec<ReceivedMail> {
        super::wait_for(n, timeout, || self.messages()).await
    }
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        // Aborting the accept task drops its JoinSet, which aborts every open session too.
        self.task.abort();
    }
}

async fn accept(listener: TcpListener, state: Arc<Mutex<State>>) {
    let mut sessions = JoinSet::new();
    loop {
        match listener.accept().await {
            Ok((stream, _)) => {
                while sessions.try_join_next().is_some() {}
                sessions.spawn(session(stream, Arc::clone(&state)));
            }
            // Out of descriptors and the like: back off instead of spinning.
            Err(_) => tokio::time::sleep(Duration::from_millis(20)).await,
        }
    }
}

/// A client that goes quiet is dropped after this long, so a broken test leaves no session.
const IDLE: Duration = Duration::from_secs(30);

async fn session(stream: TcpStream, state: Arc<Mutex<State>>) {
    let (read, mut write) = stream.into_split();
    let mut read = BufReader::new(read);
    // I/O errors and idle clients simply end the session, as a real server would.
    let _ = tokio::time::timeout(IDLE, serve(&mut read, &mut write, &state)).await;
}

async fn serve<R, W>(read: &mut BufReader<R>, write: &mut W, state: &Mutex<State>) -> io::Result<()>
where
    R: tokio::io::AsyncRead + Unpin,
    W: AsyncWrite + Unpin,
{
    reply(write, "220 127.0.0.1 vouch-notify SMTP sink ready").await?;
    let mut from: Option<String> = None;
    let mut to: Vec<String> = Vec::new();
    let mut line = Vec::new();
    loop {
        line.clear();
        if read.read_until(b'\n', &mut line).await? == 0 {
            return Ok(());
        }
        let text = String::from_utf8_lossy(&line);
        let text = text.trim_end_matches(['\r', '\n']);
        let (verb, arg) = text.split_once(' ').unwrap_or((text, ""));
        match verb.to_ascii_uppercase().as_str() {
            "EHLO" => {
                reply(
                    write,
                    "250-127.0.0.1 greets you\r\n250-8BITMIME\r\n250 SMTPUTF8",
                )
                .await?
            }
            "HELO" => reply(write, "250 127.0.0.1 greets you").await?,
            "MAIL" => {
                from = Some(path(arg));
                to.clear();
                reply(write, "250 2.1.0 OK").await?;
            }
            "RCPT" if from.is_none() => reply(write, "503 5.5.1 MAIL first").await?,
            "RCPT" => {
                to.push(path(arg));
                reply(write, "250 2.1.5 OK").await?;
            }
            "DATA" if to.is_empty() => reply(write, "503 5.5.1 RCPT first").await?,
            "DATA" => {
                reply(write, "354 end data with <CR><LF>.<CR><LF>").await?;
                let data = read_data(read).await?;
                let refusal = lock(state).fail_with.clone();
                match refusal {
                    Some(refusal) => reply(write, &refusal).await?,
                    None => {
                        let (subject, body) = parse_message(&data);
                        let mail = ReceivedMail {
                            from: from.take().unwrap_or_default(),
                            to: std::mem::take(&mut to),
                            data,
                            subject,
                            body,
                        };
                        lock(state).messages.push(mail);
                        reply(write, "250 2.0.0 OK queued").await?;
                    }
                }
                from = None;
                to.clear();
            }
            "RSET" => {
                from = None;
                to.clear();
                reply(write, "250 2.0.0 OK").await?;
            }
            "NOOP" => reply(write, "250 2.0.0 OK").await?,
            "VRFY" => reply(write, "252 2.5.2 cannot verify, will attempt delivery").await?,
            "QUIT" => {
                reply(write, "221 2.0.0 bye").await?;
                return Ok(());
            }
            "STARTTLS" | "AUTH" => reply(write, "502 5.5.1 not offered by this sink").await?,
            _ => reply(write, "500 5.5.2 command not recognised").await?,
        }
    }
}

async fn reply<W: AsyncWrite + Unpin>(write: &mut W, text: &str) -> io::Result<()> {
    write.write_all(text.as_bytes()).await?;
    write.write_all(b"\r\n").await?;
    write.flush().await
}

/// The address inside `FROM:<…>` / `TO:<…>`, ignoring ESMTP parameters after it.
fn path(arg: &str) -> String {
    let arg = arg.split_once(':').map_or(arg, |(_, rest)| rest).trim();
    match (arg.find('<'), arg.find('>')) {
        (Some(open), Some(close)) if open < close => arg[open + 1..close].to_owned(),
        _ => arg.split_whitespace().next().unwrap_or_default().to_owned(),
    }
}

/// Reads DATA up to the lone `.` line, undoing dot-stuffing (RFC 5321 §4.5.2).
async fn read_data<R: tokio::io::AsyncRead + Unpin>(read: &mut BufReader<R>) -> io::Result<String> {
    let mut data = Vec::new();
    let mut line = Vec::new();
    loop {
        line.clear();
        if read.read_until(b'\n', &mut line).await? == 0 {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
        if line == b".\r\n" || line == b".\n" {
            break;
        }
        let unstuffed = line.strip_prefix(b".").unwrap_or(&line);
        data.extend_from_slice(unstuffed);
    }
    // The CRLF before the final "." belongs to the terminator, not to the message.
    if data.ends_with(b"\r\n") {
        data.truncate(data.len() - 2);
    } else if data.ends_with(b"\n") {
        data.truncate(data.len() - 1);
    }
    Ok(String::from_utf8_lossy(&data).into_owned())
}

/// Splits a message into its decoded subject and decoded body.
fn parse_message(data: &str) -> (String, String) {
    let (head, body) = match data.find("\r\n\r\n") {
        Some(at) => (&data[..at], &data[at + 4..]),
        None => match data.find("\n\n") {
            Some(at) => (&data[..at], &data[at + 2..]),
            None => (data, ""),
        },
    };

    // Unfold: a line that starts with whitespace continues the previous header.
    let mut headers: Vec<(String, String)> = Vec::new();
    for line in head.lines() {
        if line.starts_with([' ', '\t']) {
            if let Some((_, value)) = headers.last_mut() {
                value.push_str(line);
            }
        } else if let Some((name, value)) = line.split_once(':') {
            headers.push((
                name.trim().to_ascii_lowercase(),
                value.trim_start().to_owned(),
            ));
        }
    }
    let header = |name: &str| {
        headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.trim().to_owned())
    };

    let subject = header("subject")
        .map(|s| decode_words(&s))
        .unwrap_or_default();
    let encoding = header("content-transfer-encoding")
        .unwrap_or_default()
        .to_ascii_lowercase();
    let bytes = match encoding.as_str() {
        "quoted-printable" => decode_qp(body.as_bytes(), false),
        "base64" => {
            let compact: String = body.chars().filter(|c| !c.is_ascii_whitespace()).collect();
            base64::engine::general_purpose::STANDARD
                .decode(compact)
                .unwrap_or_else(|_| body.as_bytes().to_vec())
        }
        _ => body.as_bytes().to_vec(),
    };
    let body = String::from_utf8_lossy(&bytes).replace("\r\n", "\n");
    (subject, body)
}

/// Decodes RFC 2047 encoded words. Adjacent words are joined before decoding to text, because
/// an encoder may split one UTF-8 character across two words; the whitespace between adjacent
/// words is not part of the text.
fn decode_words(value: &str) -> String {
    let mut out = String::new();
    let mut pending: Vec<u8> = Vec::new();
    let mut rest = value;
    while let Some(start) = rest.find("=?") {
        let (before, candidate) = rest.split_at(start);
        match decode_word(candidate) {
            Some((bytes, used)) => {
                if pending.is_empty() || !before.trim().is_empty() {
                    out.push_str(&String::from_utf8_lossy(&std::mem::take(&mut pending)));
                    out.push_str(before);
                }
                pending.extend_from_slice(&bytes);
                rest = &candidate[used..];
            }
            None => {
                out.push_str(&String::from_utf8_lossy(&std::mem::take(&mut pending)));
                out.push_str(before);
                out.push_str("=?");
                rest = &candidate[2..];
            }
        }
    }
    out.push_str(&String::from_utf8_lossy(&pending));
    out.push_str(rest);
    out
}

/// `=?charset?B|Q?text?=` at the start of `word`: the decoded bytes (as UTF-8, Latin-1 mapped)
/// and how many bytes of `word` it spans.
fn decode_word(word: &str) -> Option<(Vec<u8>, usize)> {
    let inner = word.strip_prefix("=?")?;
    let (charset, after) = inner.split_once('?')?;
    let (encoding, after) = after.split_once('?')?;
    let end = after.find("?=")?;
    let text = &after[..end];
    if text.contains(char::is_whitespace) {
        return None;
    }
    let raw = match encoding {
        "B" | "b" => base64::engine::general_purpose::STANDARD
            .decode(text)
            .ok()?,
        "Q" | "q" => decode_qp(text.as_bytes(), true),
        _ => return None,
    };
    let charset = charset
        .split('*')
        .next()
        .unwrap_or_default()
        .to_ascii_lowercase();
    let bytes = if matches!(charset.as_str(), "iso-8859-1" | "latin1") {
        raw.iter()
            .map(|&b| char::from(b))
            .collect::<String>()
            .into_bytes()
    } else {
        raw
    };
    // `after` is a suffix of `word`, so what is left of it tells how much was consumed.
    Some((bytes, word.len() - (after.len() - end - 2)))
}

/// Quoted-printable (RFC 2045) or, with `q_word`, the RFC 2047 "Q" variant where `_` is a space.
fn decode_qp(input: &[u8], q_word: bool) -> Vec<u8> {
    let hex = |b: u8| char::from(b).to_digit(16).map(|d| d as u8);
    let mut out = Vec::with_capacity(input.len());
    let mut i = 0;
    while i < input.len() {
        match input[i] {
            b'=' if input[i + 1..].starts_with(b"\r\n") => i += 3,
            b'=' if input[i + 1..].starts_with(b"\n") => i += 2,
            b'=' if i + 2 < input.len() => match (hex(input[i + 1]), hex(input[i + 2])) {
                (Some(high), Some(low)) => {
                    out.push(high << 4 | low);
                    i += 3;
                }
                _ => {
                    out.push(b'=');
                    i += 1;
                }
            },
            b'_' if q_word => {
                out.push(b' ');
                i += 1;
            }
            other => {
                out.push(other);
                i += 1;
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encoded_words_decode_and_join() {
        assert_eq!(decode_words("=?utf-8?b?w7xiZXI=?="), "über");
        assert_eq!(
            decode_words("=?UTF-8?Q?caf=C3=A9_au_lait?="),
            "café au lait"
        );
        // One character split across two words, with folding whitespace between them.
        assert_eq!(
            decode_words("=?utf-8?b?4oI=?=\r\n =?utf-8?b?rA==?= ok"),
            "€ ok"
        );
        assert_eq!(decode_words("plain =?x?"), "plain =?x?");
        assert_eq!(decode_words("a =?utf-8?q?b?= c"), "a b c");
    }

    #[test]
    fn quoted_printable_decodes_soft_breaks_and_escapes() {
        assert_eq!(
            decode_qp(b"caf=C3=A9 =\r\nend=", false),
            "café end=".as_bytes()
        );
    }

    #[test]
    fn paths_ignore_parameters() {
        assert_eq!(
            path("FROM:<a@example.com> BODY=8BITMIME SMTPUTF8"),
            "a@example.com"
        );
        assert_eq!(path("TO: <b@example.com>"), "b@example.com");
        assert_eq!(path("FROM:<>"), "");
    }
}
