//! A small element tree over `quick-xml`'s reader: AWS's XML answers are read by walking
//! element names (namespaces ignored), which keeps each reader short and its errors exact.
use quick_xml::Reader;
use quick_xml::escape::resolve_predefined_entity;
use quick_xml::events::Event;

/// One element: its local name, its text (trimmed) and its child elements.
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct Element {
    pub name: String,
    pub text: String,
    pub children: Vec<Element>,
}

impl Element {
    /// The first child called `name`.
    pub fn child(&self, name: &str) -> Option<&Element> {
        self.children.iter().find(|c| c.name == name)
    }

    /// Every child called `name`.
    pub fn all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Element> + 'a {
        self.children.iter().filter(move |c| c.name == name)
    }

    /// The element at a path of child names.
    pub fn at(&self, path: &[&str]) -> Option<&Element> {
        path.iter().try_fold(self, |e, name| e.child(name))
    }

    /// The text of the child at `path`, when present and not empty.
    pub fn text_at(&self, path: &[&str]) -> Option<&str> {
        self.at(path)
            .map(|e| e.text.as_str())
            .filter(|t| !t.is_empty())
    }

    /// The first element called `name` anywhere below (depth first).
    pub fn find(&self, name: &str) -> Option<&Element> {
        self.children.iter().find_map(|c| {
            if c.name == name {
                Some(c)
            } else {
                c.find(name)
            }
        })
    }
}

/// Parses a document into its root element.
pub(crate) fn parse(text: &str) -> Result<Element, String> {
    let mut reader = Reader::from_str(text);
    let mut stack: Vec<Element> = Vec::new();
    let mut root: Option<Element> = None;
    loop {
        let at = reader.buffer_position();
        let event = reader
            .read_event()
            .map_err(|e| format!("the XML does not parse at byte {at}: {e}"))?;
        let bad = |e: &dyn std::fmt::Display| format!("bad text at byte {at}: {e}");
        // Text arrives in pieces (entity references are events of their own); it is trimmed
        // when its element ends.
        let piece: Option<String> = match &event {
            Event::Text(t) => Some(t.xml10_content().map_err(|e| bad(&e))?.into_owned()),
            Event::CData(c) => Some(c.decode().map_err(|e| bad(&e))?.into_owned()),
            Event::GeneralRef(r) => Some(match r.resolve_char_ref().map_err(|e| bad(&e))? {
                Some(ch) => ch.to_string(),
                None => {
                    let name = r.decode().map_err(|e| bad(&e))?;
                    resolve_predefined_entity(&name)
                        .ok_or_else(|| format!("unknown entity &{name}; at byte {at}"))?
                        .to_string()
                }
            }),
            _ => None,
        };
        if let Some(piece) = piece {
            match stack.last_mut() {
                Some(e) => e.text.push_str(&piece),
                None if piece.trim().is_empty() => {}
                None => return Err(format!("text outside any element at byte {at}")),
            }
            continue;
        }
        match event {
            Event::Start(start) => {
                if root.is_some() {
                    return Err(format!("content after the root element at byte {at}"));
                }
                stack.push(Element {
                    name: String::from_utf8_lossy(start.local_name().as_ref()).into_owned(),
                    ..Element::default()
                });
            }
            Event::Empty(start) => {
                let e = Element {
                    name: String::from_utf8_lossy(start.local_name().as_ref()).into_owned(),
                    ..Element::default()
                };
                match stack.last_mut() {
                    Some(parent) => parent.children.push(e),
                    None if root.is_none() => root = Some(e),
                    None => return Err(format!("content after the root element at byte {at}")),
                }
            }
            Event::End(_) => {
                let mut done = stack.pop().ok_or("an end tag without a start")?;
                done.text = done.text.trim().to_string();
                match stack.last_mut() {
                    Some(parent) => parent.children.push(done),
                    None => root = Some(done),
                }
            }
            Event::Eof => break,
            _ => {}
        }
    }
    if !stack.is_empty() {
        return Err(format!(
            "the XML ends inside <{}>",
            stack.last().map(|e| e.name.as_str()).unwrap_or_default()
        ));
    }
    root.ok_or_else(|| "there is no XML element".to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_nested_elements_and_entities() {
        let doc =
            parse(r#"<?xml version="1.0"?><R xmlns="x"><A><m> 1 &amp; 2&#x21; </m><m/></A><B><![CDATA[<t>]]></B></R>"#)
                .unwrap();
        assert_eq!(doc.name, "R");
        assert_eq!(doc.text_at(&["A", "m"]), Some("1 & 2!"));
        assert_eq!(doc.at(&["A"]).unwrap().all("m").count(), 2);
        assert_eq!(doc.find("B").unwrap().text, "<t>");
        assert!(parse("<a>&nope;</a>").is_err());
        assert!(parse("<a><b></a>").is_err());
        assert!(parse("<a>").is_err());
        assert!(parse("not xml").is_err());
        assert!(parse("").is_err());
    }
}
