// A replayed document is only ready for a screenshot once its images and fonts have arrived.
export async function loaded(doc: Document): Promise<void> {
  const images = Array.from(doc.images).filter((img) => !img.complete);
  await Promise.all(
    images.map(
      (img) =>
        new Promise((resolve) => {
          img.addEventListener("load", resolve, { once: true });
          img.addEventListener("error", resolve, { once: true });
        }),
    ),
  );
  await doc.fonts.ready;
}
