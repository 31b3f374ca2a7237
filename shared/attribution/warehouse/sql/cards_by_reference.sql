-- Cards a user's model reference can mean: a card id, a sha256, a prefix of either (8+
-- characters), a file name.
SELECT card_json, registered_at
FROM model_cards
WHERE card_id = @ref
  OR model_sha256 = @ref
  OR (LENGTH(@ref) >= 8 AND (STARTS_WITH(card_id, @ref) OR STARTS_WITH(model_sha256, @ref)))
  OR model_file_name = @ref
ORDER BY registered_at DESC
